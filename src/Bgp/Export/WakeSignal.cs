using System.Threading.Tasks.Sources;

namespace Calico.Bgp.Speaker.Export;

/// <summary>
/// Wakes one waiter: <see cref="Set"/> completes the wait in progress, or the next one when none is,
/// and several sets before a wait count as one. What a bounded channel of one <c>bool</c> that drops
/// writes did for a member's writer, in one small object that allocates nothing per wait.
/// </summary>
/// <remarks>
/// The channel, its reader, writer, queue and reusable waiters were ~650 bytes per member and as much
/// again of garbage while it was made: a reflector with a thousand clients paid both while its sessions
/// came up (bench/RESULTS-perf.md, twentieth round). One waiter at a time; the waiter's continuation
/// runs on the thread pool, never inside <see cref="Set"/> (whose caller may hold a group's lock).
/// </remarks>
internal sealed class WakeSignal : IValueTaskSource
{
    private const int Idle = 0;
    private const int Signalled = 1;
    private const int Waiting = 2;

    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private int _state;

    /// <summary>Wakes the waiter, or lets the next wait return at once.</summary>
    public void Set()
    {
        while (true)
        {
            switch (Volatile.Read(ref _state))
            {
                case Signalled:
                    return;
                case Idle when Interlocked.CompareExchange(ref _state, Signalled, Idle) == Idle:
                    return;
                case Waiting when Interlocked.CompareExchange(ref _state, Idle, Waiting) == Waiting:
                    _core.SetResult(true);
                    return;
            }
        }
    }

    /// <summary>Completes when <see cref="Set"/> was called since the last wait returned. One waiter at a time.</summary>
    public ValueTask WaitAsync()
    {
        if (Interlocked.CompareExchange(ref _state, Idle, Signalled) == Signalled)
            return ValueTask.CompletedTask;
        // The last wait's result was taken before this one began (one waiter), so the core is free to reuse.
        _core.Reset();
        var state = Interlocked.CompareExchange(ref _state, Waiting, Idle);
        if (state == Idle)
            return new ValueTask(this, _core.Version);
        if (state == Waiting)
            throw new InvalidOperationException("a wake signal has one waiter at a time");
        // Set between the two exchanges.
        Volatile.Write(ref _state, Idle);
        return ValueTask.CompletedTask;
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
