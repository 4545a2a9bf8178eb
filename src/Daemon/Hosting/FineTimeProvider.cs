using System.Diagnostics;

namespace Calico.Bgp.Daemon.Hosting;

/// <summary>
/// The system clock, with timers that fire on time when they are short. .NET's timer queue measures
/// due times with <see cref="Environment.TickCount64"/>, which on Linux reads CLOCK_MONOTONIC_COARSE:
/// on a kernel built with HZ=250 it moves in 4 ms steps, so a 1 ms <c>Task.Delay</c> takes 4–5 ms.
/// The kernel protocol settles a burst of table changes in 1 ms steps before it writes (its export
/// settle), and each step cost a whole coarse tick: in P3 (200 mesh nodes' blocks) the daemon sat
/// idle 4–8 ms between the last import and the kernel write. Timers due within
/// <see cref="Threshold"/> wait here on one thread that sleeps on the precise monotonic clock;
/// longer ones (hold timers, scans) stay on the system's timer queue.
/// </summary>
internal sealed class FineTimeProvider : TimeProvider
{
    /// <summary>Timers due within this wait on the precise thread; the rest on the system's queue.</summary>
    public static readonly TimeSpan Threshold = TimeSpan.FromMilliseconds(50);

    // A plain object, not a Lock: the thread sleeps in Monitor.Wait on it.
    private readonly object _sync = new();
    private readonly PriorityQueue<(FineTimer Timer, long Generation), long> _due = new();
    private Thread? _thread;

    public static FineTimeProvider Instance { get; } = new();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new FineTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Queues <paramref name="timer"/> to fire at <paramref name="due"/> (a Stopwatch timestamp).</summary>
    private void Schedule(FineTimer timer, long generation, long due)
    {
        lock (_sync)
        {
            _due.Enqueue((timer, generation), due);
            if (_thread is null)
            {
                _thread = new Thread(Run) { IsBackground = true, Name = "fine-timers" };
                _thread.Start();
            }
            // Wakes the thread if this timer is now the first due (and harmlessly otherwise).
            Monitor.PulseAll(_sync);
        }
    }

    private void Run()
    {
        while (true)
        {
            FineTimer? fire = null;
            long generation = 0;
            lock (_sync)
            {
                if (!_due.TryPeek(out var head, out var due))
                {
                    Monitor.Wait(_sync);
                    continue;
                }
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                if (wait > TimeSpan.Zero)
                {
                    // Monitor.Wait sleeps on the precise monotonic clock (not the coarse tick count), in
                    // whole milliseconds: rounded up, as a remainder under 1 ms rounds to a 0 ms wait and
                    // the thread would spin on the DUT's one core until the timer is due.
                    Monitor.Wait(_sync, (int)Math.Ceiling(wait.TotalMilliseconds));
                    continue;
                }
                _due.Dequeue();
                if (head.Timer.IsCurrent(head.Generation))
                    (fire, generation) = head;
            }
            // Callbacks run on the pool, as the system's timers' do, so a slow one delays no other timer.
            if (fire is not null)
                ThreadPool.UnsafeQueueUserWorkItem(static s => s.Timer.Fire(s.Generation), (Timer: fire, Generation: generation), preferLocal: false);
        }
    }

    /// <summary>
    /// One timer: short waits on the provider's thread, long ones on an inner system timer. Each
    /// <see cref="Change"/> starts a new generation, so a wait of an earlier one never fires.
    /// </summary>
    private sealed class FineTimer(FineTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        private readonly Lock _sync = new();
        private long _generation;
        private TimeSpan _period = Timeout.InfiniteTimeSpan;
        private ITimer? _coarse;
        private bool _disposed;

        public bool IsCurrent(long generation)
        {
            lock (_sync)
                return !_disposed && generation == _generation;
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            long generation;
            lock (_sync)
            {
                if (_disposed)
                    return false;
                generation = ++_generation;
                _period = period;
                _coarse?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                if (dueTime == Timeout.InfiniteTimeSpan)
                    return true;
                if (dueTime > Threshold)
                {
                    // Long: the system's queue, one shot; a period is re-armed from Fire, as for short ones.
                    _coarse ??= TimeProvider.System.CreateTimer(static s => ((FineTimer)s!).FireCoarse(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                    _coarse.Change(dueTime, Timeout.InfiniteTimeSpan);
                    _coarseGeneration = generation;
                    return true;
                }
            }
            var due = Stopwatch.GetTimestamp() + (long)(Math.Max(0, dueTime.TotalSeconds) * Stopwatch.Frequency);
            owner.Schedule(this, generation, due);
            return true;
        }

        // The setting the inner system timer was armed for: a late firing of an older one is ignored.
        private long _coarseGeneration;

        private void FireCoarse()
        {
            long generation;
            lock (_sync)
                generation = _coarseGeneration;
            Fire(generation);
        }

        /// <summary>Runs the callback if <paramref name="generation"/> is still the timer's setting; re-arms a periodic one.</summary>
        public void Fire(long generation)
        {
            TimeSpan period;
            lock (_sync)
            {
                if (_disposed || generation != _generation)
                    return;
                period = _period;
            }
            callback(state);
            if (period != Timeout.InfiniteTimeSpan && period > TimeSpan.Zero)
            {
                lock (_sync)
                {
                    // The callback may have changed or disposed the timer; then its own setting stands.
                    if (_disposed || generation != _generation)
                        return;
                }
                Change(period, period);
            }
        }

        public void Dispose()
        {
            lock (_sync)
            {
                _disposed = true;
                _coarse?.Dispose();
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
