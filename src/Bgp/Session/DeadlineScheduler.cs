namespace Calico.Bgp.Speaker.Session;

/// <summary>
/// One timer for the deadlines of many sessions: each session holds a <see cref="DeadlineTimer"/>
/// armed at its FSM's next deadline, and the scheduler keeps them in a min-heap and programs a
/// single <see cref="ITimer"/> of its <see cref="TimeProvider"/> for the earliest. A session is
/// woken (its callback queued to the thread pool) only when its deadline is due, instead of each
/// session polling every 250 ms: at rest, 500 sessions cost a handful of wake-ups a second rather
/// than thousands, and nothing is allocated per wake-up. Callbacks run on the thread pool, never
/// on the timer's thread, so one session's slow callback does not delay another's deadline.
/// </summary>
public sealed class DeadlineScheduler : IDisposable
{
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    // Binary min-heap on DeadlineTimer.DueTicks; each timer knows its slot (-1 when not armed).
    private DeadlineTimer[] _heap = new DeadlineTimer[16];
    private int _count;
    private ITimer? _timer;
    // The instant the ITimer is programmed for (UTC ticks), long.MaxValue when it is idle.
    private long _timerDue = long.MaxValue;
    private bool _disposed;

    public DeadlineScheduler(TimeProvider time) => _time = time;

    public TimeProvider Time => _time;

    /// <summary>Timers armed now (for tests and diagnostics).</summary>
    public int ArmedCount
    {
        get
        {
            lock (_lock)
                return _count;
        }
    }

    /// <summary>
    /// A new, unarmed timer that calls <paramref name="callback"/> with <paramref name="state"/>
    /// each time its deadline is due. The callback must not throw.
    /// </summary>
    public DeadlineTimer Register(Action<object?> callback, object? state) => new(this, callback, state);

    public void Dispose()
    {
        ITimer? timer;
        lock (_lock)
        {
            _disposed = true;
            for (var i = 0; i < _count; i++)
                _heap[i].HeapIndex = -1;
            Array.Clear(_heap, 0, _count);
            _count = 0;
            timer = _timer;
            _timer = null;
        }
        timer?.Dispose();
    }

    /// <summary>Arms <paramref name="t"/> at <paramref name="dueTicks"/>; with <paramref name="onlyEarlier"/> a later one is ignored.</summary>
    internal void Arm(DeadlineTimer t, long dueTicks, bool onlyEarlier)
    {
        var fireNow = false;
        lock (_lock)
        {
            if (_disposed || t.Disposed)
                return;
            if (onlyEarlier && t.HeapIndex >= 0 && dueTicks >= t.DueTicks)
                return;
            if (dueTicks <= _time.GetUtcNow().UtcTicks)
            {
                // Already due: wake it now rather than program a timer for the past (a fake clock
                // would call back inside Change, under this lock).
                Remove(t);
                fireNow = true;
            }
            else
            {
                t.DueTicks = dueTicks;
                if (t.HeapIndex >= 0)
                {
                    SiftUp(t.HeapIndex);
                    SiftDown(t.HeapIndex);
                }
                else
                {
                    if (_count == _heap.Length)
                        Array.Resize(ref _heap, _count * 2);
                    t.HeapIndex = _count;
                    _heap[_count++] = t;
                    SiftUp(t.HeapIndex);
                }
                Reprogram();
            }
        }
        if (fireNow)
            t.Queue();
    }

    internal void Disarm(DeadlineTimer t)
    {
        lock (_lock)
            Remove(t);
    }

    /// <summary>The ITimer fired: wake every timer that is due, then program the next.</summary>
    private void OnTimer(object? _)
    {
        lock (_lock)
        {
            if (_disposed)
                return;
            _timerDue = long.MaxValue;
            var now = _time.GetUtcNow().UtcTicks;
            while (_count > 0 && _heap[0].DueTicks <= now)
            {
                var t = _heap[0];
                Remove(t);
                // Queueing does not run the callback here, so it is safe under the lock.
                t.Queue();
            }
            Reprogram();
        }
    }

    /// <summary>Programs the ITimer for the heap's earliest deadline when that is sooner than it is set for.</summary>
    private void Reprogram()
    {
        if (_count == 0)
            return;
        var due = _heap[0].DueTicks;
        if (due >= _timerDue)
            return;
        _timerDue = due;
        // Whole milliseconds, rounded up: timers have millisecond resolution, and one that fires a
        // little early only finds nothing due and programs itself again.
        var ticks = Math.Max(due - _time.GetUtcNow().UtcTicks, 1);
        var wait = TimeSpan.FromMilliseconds((ticks + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond);
        if (_timer is null)
        {
            // Not the first arming session's execution context (its AsyncLocals) for every wake-up.
            if (ExecutionContext.IsFlowSuppressed())
                _timer = _time.CreateTimer(OnTimer, null, wait, Timeout.InfiniteTimeSpan);
            else
            {
                using (ExecutionContext.SuppressFlow())
                    _timer = _time.CreateTimer(OnTimer, null, wait, Timeout.InfiniteTimeSpan);
            }
        }
        else
            _timer.Change(wait, Timeout.InfiniteTimeSpan);
    }

    private void Remove(DeadlineTimer t)
    {
        var i = t.HeapIndex;
        if (i < 0)
            return;
        t.HeapIndex = -1;
        var last = _heap[--_count];
        _heap[_count] = null!;
        if (i == _count)
            return;
        _heap[i] = last;
        last.HeapIndex = i;
        SiftUp(i);
        SiftDown(last.HeapIndex);
    }

    private void SiftUp(int i)
    {
        var t = _heap[i];
        while (i > 0)
        {
            var parent = (i - 1) / 2;
            if (_heap[parent].DueTicks <= t.DueTicks)
                break;
            _heap[i] = _heap[parent];
            _heap[i].HeapIndex = i;
            i = parent;
        }
        _heap[i] = t;
        t.HeapIndex = i;
    }

    private void SiftDown(int i)
    {
        var t = _heap[i];
        while (true)
        {
            var child = 2 * i + 1;
            if (child >= _count)
                break;
            if (child + 1 < _count && _heap[child + 1].DueTicks < _heap[child].DueTicks)
                child++;
            if (t.DueTicks <= _heap[child].DueTicks)
                break;
            _heap[i] = _heap[child];
            _heap[i].HeapIndex = i;
            i = child;
        }
        _heap[i] = t;
        t.HeapIndex = i;
    }
}
