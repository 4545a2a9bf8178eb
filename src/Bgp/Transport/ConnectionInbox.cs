using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;

namespace Calico.Bgp.Speaker.Transport;

/// <summary>
/// The neighbour's accepted connections waiting for the session to take them: at most two (a
/// collision needs no more), further ones refused so the listener closes them. One reader at a time
/// (the session's steps wait in turn); writers are the listener's accept loops.
/// </summary>
/// <remarks>
/// A bounded channel did this before: with its reader, writer, queue and reusable waiters ~600 bytes
/// per configured neighbour, and as much again of garbage while it was made, for connections that
/// come a few times in a session's life (bench/RESULTS-perf.md, twentieth round). A wait here makes
/// its waiter when it has to wait, which is rare.
/// </remarks>
internal sealed class ConnectionInbox
{
    private readonly Lock _lock = new();
    private Socket? _first;
    private Socket? _second;
    private TaskCompletionSource<Socket>? _waiter;

    /// <summary>Hands <paramref name="socket"/> to the waiting reader or keeps it; false when two are kept already.</summary>
    public bool TryWrite(Socket socket)
    {
        while (true)
        {
            TaskCompletionSource<Socket> waiter;
            lock (_lock)
            {
                if (_waiter is null)
                {
                    if (_first is null)
                        _first = socket;
                    else if (_second is null)
                        _second = socket;
                    else
                        return false;
                    return true;
                }
                waiter = _waiter;
                _waiter = null;
            }
            // A waiter cancelled meanwhile does not take it: keep it for the next reader.
            if (waiter.TrySetResult(socket))
                return true;
        }
    }

    /// <summary>Takes the oldest kept connection, if any.</summary>
    public bool TryRead([NotNullWhen(true)] out Socket? socket)
    {
        lock (_lock)
            return TryTake(out socket);
    }

    /// <summary>The oldest kept connection, or the next to come; throws when <paramref name="cancellationToken"/> is cancelled first (or already is).</summary>
    public async ValueTask<Socket> ReadAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        TaskCompletionSource<Socket> waiter;
        lock (_lock)
        {
            if (TryTake(out var kept))
                return kept;
            if (_waiter is not null)
                throw new InvalidOperationException("a connection inbox has one reader at a time");
            // Completed off the writer's thread: the listener's accept loop must not run the session's step.
            waiter = _waiter = new TaskCompletionSource<Socket>(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        try
        {
            using var cancel = cancellationToken.UnsafeRegister(static (w, token) => ((TaskCompletionSource<Socket>)w!).TrySetCanceled(token), waiter);
            return await waiter.Task.ConfigureAwait(false);
        }
        finally
        {
            lock (_lock)
            {
                if (_waiter == waiter)
                    _waiter = null;
            }
        }
    }

    private bool TryTake([NotNullWhen(true)] out Socket? socket)
    {
        socket = _first;
        if (socket is null)
            return false;
        _first = _second;
        _second = null;
        return true;
    }
}
