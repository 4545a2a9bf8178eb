using Calico.Bgp.Daemon.Hosting;

namespace Calico.Bgp.Daemon.Tests.Hosting;

/// <summary>
/// The kernel protocol's timers: short ones on the precise thread, long ones on the system's queue,
/// each with the semantics of a system timer (one shot, periodic, changed, disposed). No test
/// asserts how soon a timer fires (the machine is shared); a later sentinel timer shows that one
/// that must not fire has had its chance.
/// </summary>
public class FineTimeProviderTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(1);

    private static readonly FineTimeProvider Time = FineTimeProvider.Instance;

    /// <summary>Completes once a timer due after <paramref name="due"/> has fired.</summary>
    private static async Task SentinelAsync(TimeSpan due) => await Task.Delay(due, Time).WaitAsync(Soon);

    [Fact]
    public async Task A_short_delay_completes()
    {
        await Task.Delay(Short, Time).WaitAsync(Soon);
        await Task.Delay(TimeSpan.Zero, Time).WaitAsync(Soon);
    }

    [Fact]
    public async Task A_short_one_shot_fires_once()
    {
        var fired = 0;
        using var timer = Time.CreateTimer(_ => Interlocked.Increment(ref fired), null, Short, Timeout.InfiniteTimeSpan);
        await Wait(() => Volatile.Read(ref fired) >= 1);
        await SentinelAsync(TimeSpan.FromMilliseconds(30));
        Assert.Equal(1, Volatile.Read(ref fired));
    }

    [Fact]
    public async Task A_timer_stopped_or_disposed_before_it_is_due_does_not_fire()
    {
        var fired = 0;
        using var stopped = Time.CreateTimer(_ => Interlocked.Increment(ref fired), null, TimeSpan.FromMilliseconds(5), Timeout.InfiniteTimeSpan);
        var disposed = Time.CreateTimer(_ => Interlocked.Increment(ref fired), null, TimeSpan.FromMilliseconds(5), Timeout.InfiniteTimeSpan);
        stopped.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        disposed.Dispose();
        Assert.False(disposed.Change(Short, Timeout.InfiniteTimeSpan));
        await SentinelAsync(TimeSpan.FromMilliseconds(30));
        Assert.Equal(0, Volatile.Read(ref fired));
    }

    [Fact]
    public async Task A_short_periodic_timer_fires_until_disposed()
    {
        var fired = 0;
        var timer = Time.CreateTimer(_ => Interlocked.Increment(ref fired), null, Short, TimeSpan.FromMilliseconds(2));
        await Wait(() => Volatile.Read(ref fired) >= 3);
        timer.Dispose();
        // A callback already handed to the pool may still run once; after the sentinel the count stands.
        await SentinelAsync(TimeSpan.FromMilliseconds(30));
        var after = Volatile.Read(ref fired);
        await SentinelAsync(TimeSpan.FromMilliseconds(30));
        Assert.Equal(after, Volatile.Read(ref fired));
    }

    [Fact]
    public async Task A_long_timer_fires_once_through_the_system_queue()
    {
        var fired = 0;
        using var timer = Time.CreateTimer(_ => Interlocked.Increment(ref fired), null, TimeSpan.FromMilliseconds(120), Timeout.InfiniteTimeSpan);
        await Wait(() => Volatile.Read(ref fired) >= 1);
        await SentinelAsync(TimeSpan.FromMilliseconds(30));
        Assert.Equal(1, Volatile.Read(ref fired));
    }

    [Fact]
    public async Task A_long_timer_changed_to_a_short_one_fires_once_for_the_short_setting_only()
    {
        var fired = 0;
        using var timer = Time.CreateTimer(_ => Interlocked.Increment(ref fired), null, TimeSpan.FromMilliseconds(100), Timeout.InfiniteTimeSpan);
        timer.Change(Short, Timeout.InfiniteTimeSpan);
        await Wait(() => Volatile.Read(ref fired) >= 1);
        // Past the long setting's due time: it was replaced, so it does not fire as well.
        await Task.Delay(TimeSpan.FromMilliseconds(200)).WaitAsync(Soon);
        Assert.Equal(1, Volatile.Read(ref fired));
    }

    [Fact]
    public async Task Several_short_timers_due_at_different_times_each_fire_exactly_once()
    {
        var order = new List<int>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var timers = new List<ITimer>();
        // Created latest-first; each callback records its index, the last due completes the test.
        foreach (var i in (int[])[4, 3, 2, 1, 0])
        {
            timers.Add(Time.CreateTimer(_ =>
            {
                lock (order)
                {
                    order.Add(i);
                    if (order.Count == 5)
                        done.TrySetResult();
                }
            }, null, TimeSpan.FromMilliseconds(4 * (i + 1)), Timeout.InfiniteTimeSpan));
        }
        await done.Task.WaitAsync(Soon);
        foreach (var t in timers)
            t.Dispose();
        // Callbacks run on the pool, so two due close together may swap; each fired exactly once.
        Assert.Equal([0, 1, 2, 3, 4], order.Order());
    }

    private static async Task Wait(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Soon;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the timer did not fire in 20 s");
            await Task.Delay(5);
        }
    }
}
