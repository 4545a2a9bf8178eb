namespace Calico.Bgp.Speaker.Session;

/// <summary>
/// One session's deadline in a <see cref="DeadlineScheduler"/>: armed at one instant at a time,
/// it calls back once when that instant is due and is then unarmed until armed again.
/// </summary>
public sealed class DeadlineTimer : IThreadPoolWorkItem, IDisposable
{
    private readonly DeadlineScheduler _scheduler;
    private readonly Action<object?> _callback;
    private readonly object? _state;
    // 1 while a wake-up waits in the thread pool: a second one before it runs adds nothing.
    private int _queued;
    private volatile bool _disposed;

    internal DeadlineTimer(DeadlineScheduler scheduler, Action<object?> callback, object? state)
    {
        _scheduler = scheduler;
        _callback = callback;
        _state = state;
    }

    // Written under the scheduler's lock only.
    internal long DueTicks;
    internal int HeapIndex = -1;

    internal bool Disposed => _disposed;

    /// <summary>Arms the timer at <paramref name="due"/>, replacing any earlier or later deadline; null disarms it.</summary>
    public void Arm(DateTimeOffset? due)
    {
        if (due is { } d)
            _scheduler.Arm(this, d.UtcTicks, onlyEarlier: false);
        else
            _scheduler.Disarm(this);
    }

    /// <summary>
    /// Arms the timer at <paramref name="due"/> only if that is sooner than it is armed for (or it
    /// is not armed). For callers that know the deadline may have moved either way: a wake-up at
    /// a deadline that has since moved later only finds nothing due.
    /// </summary>
    public void ArmEarlier(DateTimeOffset? due)
    {
        if (due is not { } d)
            return;
        // Without the scheduler's lock on the common path (the hold timer restarted by a message):
        // armed at or before it already. If the wake-up is being taken right now, its callback
        // is what re-arms the timer.
        if (Volatile.Read(ref HeapIndex) >= 0 && Volatile.Read(ref DueTicks) <= d.UtcTicks)
            return;
        _scheduler.Arm(this, d.UtcTicks, onlyEarlier: true);
    }

    /// <summary>Disarms the timer for good: nothing is queued after this (a wake-up already under way may still run).</summary>
    public void Dispose()
    {
        _disposed = true;
        _scheduler.Disarm(this);
    }

    internal void Queue()
    {
        if (_disposed || Interlocked.Exchange(ref _queued, 1) != 0)
            return;
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    void IThreadPoolWorkItem.Execute()
    {
        Volatile.Write(ref _queued, 0);
        if (!_disposed)
            _callback(_state);
    }
}
