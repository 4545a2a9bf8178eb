using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;
using System.Threading.Tasks.Sources;

namespace Calico.Bgp.Speaker.Transport;

/// <summary>
/// The neighbour's accepted connections waiting for the session to take them: at most two (a
/// collision needs no more), further ones refused so the listener closes them. One reader at a time
/// (the session's steps wait in turn); writers are the listener's accept loops.
/// </summary>
/// <remarks>
/// A bounded channel did this before: with its reader, writer, queue and reusable waiters ~600 bytes
/// per configured neighbour, and as much again of garbage while it was made, for connections that
/// come a few times in a session's life (bench/RESULTS-perf.md, twentieth round). The wait is the
/// inbox itself, as the channel's reusable waiter was; one that waits the session's life through
/// (the collision watch) keeps only its token's registration.
/// </remarks>
internal sealed class ConnectionInbox : IValueTaskSource<Socket>
{
    private readonly Lock _lock = new();
    private Socket? _first;
    private Socket? _second;
    // The one wait in progress: completed by a writer or by its token, off their threads.
    private ManualResetValueTaskSourceCore<Socket> _core = new() { RunContinuationsAsynchronously = true };
    private bool _waiting;
    private CancellationTokenRegistration _cancel;

    /// <summary>Hands <paramref name="socket"/> to the waiting reader or keeps it; false when two are kept already.</summary>
    public bool TryWrite(Socket socket)
    {
        lock (_lock)
        {
            if (!_waiting)
            {
                if (_first is null)
                    _first = socket;
                else if (_second is null)
                    _second = socket;
                else
                    return false;
                return true;
            }
            _waiting = false;
        }
        _core.SetResult(socket);
        return true;
    }

    /// <summary>Takes the oldest kept connection, if any.</summary>
    public bool TryRead([NotNullWhen(true)] out Socket? socket)
    {
        lock (_lock)
            return TryTake(out socket);
    }

    /// <summary>
    /// The oldest kept connection, or the next to come; throws when <paramref name="cancellationToken"/>
    /// is cancelled first (or already is). One reader at a time, and nothing allocated but the token's registration.
    /// </summary>
    public ValueTask<Socket> ReadAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            if (TryTake(out var kept))
                return new ValueTask<Socket>(kept);
            if (_waiting)
                throw new InvalidOperationException("a connection inbox has one reader at a time");
            // The last wait's result was taken before this one began (one reader), so the core is free.
            _core.Reset();
            _waiting = true;
        }
        // Set before the wait is handed out, so GetResult, which comes after, always finds it.
        _cancel = cancellationToken.UnsafeRegister(static (inbox, token) => ((ConnectionInbox)inbox!).CancelWait(token), this);
        return new ValueTask<Socket>(this, _core.Version);
    }

    private void CancelWait(CancellationToken token)
    {
        lock (_lock)
        {
            // A writer got there first: the wait has its connection.
            if (!_waiting)
                return;
            _waiting = false;
        }
        _core.SetException(new OperationCanceledException(token));
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

    Socket IValueTaskSource<Socket>.GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            _cancel.Dispose();
            _cancel = default;
        }
    }

    ValueTaskSourceStatus IValueTaskSource<Socket>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<Socket>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
