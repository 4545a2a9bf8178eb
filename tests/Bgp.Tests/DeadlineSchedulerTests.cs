using System.Collections.Concurrent;
using Calico.Bgp.Lab;
using Calico.Bgp.Speaker.Session;
using Microsoft.Extensions.Time.Testing;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>
/// The scheduler all sessions' timers share: deadlines fire once, in order, re-armed and
/// cancelled, with one timer of the clock for any number of them. The clock is a fake one: its
/// timers fire when the test advances it, and what the scheduler does then (take the due ones
/// out of the heap) is done before <c>Advance</c> returns; the callbacks run on the thread pool
/// afterwards, so the tests wait for them.
/// </summary>
public class DeadlineSchedulerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Counts each timer's wake-ups and keeps their order.</summary>
    private sealed class Recorder
    {
        private readonly ConcurrentDictionary<int, int> _counts = new();
        public ConcurrentQueue<int> Order { get; } = new();

        public void Fired(object? state)
        {
            var id = (int)state!;
            _counts.AddOrUpdate(id, 1, (_, n) => n + 1);
            Order.Enqueue(id);
        }

        public int Count(int id) => _counts.GetValueOrDefault(id);
        public int Total => Order.Count;
    }

    /// <summary>A fake clock that counts the timers created on it.</summary>
    private sealed class CountingTime(FakeTimeProvider inner) : TimeProvider
    {
        private int _timers;
        public int TimersCreated => Volatile.Read(ref _timers);
        public override DateTimeOffset GetUtcNow() => inner.GetUtcNow();
        public override long GetTimestamp() => inner.GetTimestamp();
        public override long TimestampFrequency => inner.TimestampFrequency;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Interlocked.Increment(ref _timers);
            return inner.CreateTimer(callback, state, dueTime, period);
        }
    }

    private static Task FiredAsync(Recorder r, int total) => Wait.UntilAsync(() => r.Total >= total, Patience, $"{total} wake-ups (have {r.Total})");

    [Fact]
    public async Task A_deadline_fires_once_when_due_and_not_before()
    {
        var time = new FakeTimeProvider();
        using var scheduler = new DeadlineScheduler(time);
        var r = new Recorder();
        using var t = scheduler.Register(r.Fired, 1);
        t.Arm(time.GetUtcNow().AddSeconds(5));
        Assert.Equal(1, scheduler.ArmedCount);

        time.Advance(TimeSpan.FromSeconds(4.999));
        Assert.Equal(1, scheduler.ArmedCount);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, scheduler.ArmedCount);
        await FiredAsync(r, 1);

        // Unarmed after firing: time going on wakes nothing more. A second timer, fired later,
        // shows the callbacks queued by then have run.
        using var later = scheduler.Register(r.Fired, 2);
        later.Arm(time.GetUtcNow().AddSeconds(60));
        time.Advance(TimeSpan.FromSeconds(60));
        await FiredAsync(r, 2);
        Assert.Equal(1, r.Count(1));
        Assert.Equal(1, r.Count(2));
    }

    [Fact]
    public async Task Deadlines_fire_in_the_order_they_are_due_whatever_the_order_they_were_armed()
    {
        var time = new FakeTimeProvider();
        using var scheduler = new DeadlineScheduler(time);
        var r = new Recorder();
        var start = time.GetUtcNow();
        var seconds = Enumerable.Range(1, 40).ToArray();
        new Random(9).Shuffle(seconds);
        var timers = seconds.Select(s =>
        {
            var t = scheduler.Register(r.Fired, s);
            t.Arm(start.AddSeconds(s));
            return t;
        }).ToList();
        for (var s = 1; s <= 40; s++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await FiredAsync(r, s);
        }
        Assert.Equal(Enumerable.Range(1, 40), r.Order);
        timers.ForEach(t => t.Dispose());
    }

    [Fact]
    public async Task Arm_replaces_the_deadline_either_way_and_ArmEarlier_only_brings_it_forward()
    {
        var time = new FakeTimeProvider();
        using var scheduler = new DeadlineScheduler(time);
        var r = new Recorder();
        var start = time.GetUtcNow();
        using var sooner = scheduler.Register(r.Fired, 1);
        using var later = scheduler.Register(r.Fired, 2);
        using var kept = scheduler.Register(r.Fired, 3);
        using var forward = scheduler.Register(r.Fired, 4);
        sooner.Arm(start.AddSeconds(10));
        sooner.Arm(start.AddSeconds(2));
        later.Arm(start.AddSeconds(2));
        later.Arm(start.AddSeconds(8));
        kept.Arm(start.AddSeconds(4));
        kept.ArmEarlier(start.AddSeconds(9));
        forward.Arm(start.AddSeconds(9));
        forward.ArmEarlier(start.AddSeconds(6));

        time.Advance(TimeSpan.FromSeconds(2));
        await FiredAsync(r, 1);
        time.Advance(TimeSpan.FromSeconds(2));
        await FiredAsync(r, 2);
        time.Advance(TimeSpan.FromSeconds(2));
        await FiredAsync(r, 3);
        time.Advance(TimeSpan.FromSeconds(2));
        await FiredAsync(r, 4);
        Assert.Equal([1, 3, 4, 2], r.Order);
        Assert.Equal(0, scheduler.ArmedCount);
    }

    [Fact]
    public async Task A_callback_that_re_arms_its_timer_is_woken_at_each_new_deadline()
    {
        var time = new FakeTimeProvider();
        using var scheduler = new DeadlineScheduler(time);
        var fired = 0;
        DeadlineTimer? t = null;
        t = scheduler.Register(_ =>
        {
            Interlocked.Increment(ref fired);
            t!.Arm(time.GetUtcNow().AddSeconds(30));
        }, null);
        t.Arm(time.GetUtcNow().AddSeconds(30));
        for (var i = 1; i <= 5; i++)
        {
            time.Advance(TimeSpan.FromSeconds(30));
            var expected = i;
            await Wait.UntilAsync(() => Volatile.Read(ref fired) == expected && scheduler.ArmedCount == 1, Patience, $"wake-up {expected} and its re-arm");
        }
        t.Dispose();
        Assert.Equal(0, scheduler.ArmedCount);
    }

    [Fact]
    public async Task A_deadline_already_passed_fires_at_once()
    {
        var time = new FakeTimeProvider();
        using var scheduler = new DeadlineScheduler(time);
        var r = new Recorder();
        using var t = scheduler.Register(r.Fired, 1);
        t.Arm(time.GetUtcNow().AddSeconds(-1));
        await FiredAsync(r, 1);
        Assert.Equal(0, scheduler.ArmedCount);
    }

    [Fact]
    public async Task A_disposed_timer_never_fires_and_cannot_be_armed_again()
    {
        var time = new FakeTimeProvider();
        using var scheduler = new DeadlineScheduler(time);
        var r = new Recorder();
        var ended = scheduler.Register(r.Fired, 1);
        using var witness = scheduler.Register(r.Fired, 2);
        ended.Arm(time.GetUtcNow().AddSeconds(3));
        witness.Arm(time.GetUtcNow().AddSeconds(5));
        ended.Dispose();
        Assert.Equal(1, scheduler.ArmedCount);
        ended.Arm(time.GetUtcNow().AddSeconds(4));
        ended.ArmEarlier(time.GetUtcNow().AddSeconds(4));
        Assert.Equal(1, scheduler.ArmedCount);
        time.Advance(TimeSpan.FromSeconds(10));
        await FiredAsync(r, 1);
        Assert.Equal([2], r.Order);
    }

    [Fact]
    public async Task Disarming_with_null_takes_the_deadline_back()
    {
        var time = new FakeTimeProvider();
        using var scheduler = new DeadlineScheduler(time);
        var r = new Recorder();
        using var off = scheduler.Register(r.Fired, 1);
        using var witness = scheduler.Register(r.Fired, 2);
        off.Arm(time.GetUtcNow().AddSeconds(1));
        witness.Arm(time.GetUtcNow().AddSeconds(2));
        off.Arm(null);
        time.Advance(TimeSpan.FromSeconds(2));
        await FiredAsync(r, 1);
        Assert.Equal([2], r.Order);
    }

    /// <summary>
    /// 500 sessions, each re-armed a few times at random (some disarmed, some ended), as the FSMs'
    /// deadlines move: each live one fires exactly once at its last deadline, and the clock has
    /// one timer for them all.
    /// </summary>
    [Fact]
    public async Task Many_sessions_share_one_timer_and_each_fires_once_at_its_last_deadline()
    {
        const int sessions = 500;
        var fake = new FakeTimeProvider();
        var time = new CountingTime(fake);
        using var scheduler = new DeadlineScheduler(time);
        var r = new Recorder();
        var rng = new Random(4271);
        var start = time.GetUtcNow();
        var timers = new DeadlineTimer[sessions];
        var last = new int?[sessions];
        for (var i = 0; i < sessions; i++)
            timers[i] = scheduler.Register(r.Fired, i);
        for (var round = 0; round < 5; round++)
        {
            for (var i = 0; i < sessions; i++)
            {
                var roll = rng.Next(10);
                if (roll == 0)
                {
                    timers[i].Arm(null);
                    last[i] = null;
                }
                else
                {
                    var s = rng.Next(1, 121);
                    timers[i].Arm(start.AddSeconds(s));
                    last[i] = s;
                }
            }
        }
        for (var i = 0; i < sessions; i += 50)
        {
            timers[i].Dispose();
            last[i] = null;
        }
        var expected = last.Count(s => s is not null);
        Assert.Equal(expected, scheduler.ArmedCount);

        // Step through the two minutes; after each second, exactly the ones due by then have fired.
        for (var s = 1; s <= 120; s++)
        {
            fake.Advance(TimeSpan.FromSeconds(1));
            var dueBy = last.Count(d => d <= s);
            Assert.Equal(expected - dueBy, scheduler.ArmedCount);
            await FiredAsync(r, dueBy);
        }
        for (var i = 0; i < sessions; i++)
            Assert.Equal(last[i] is null ? 0 : 1, r.Count(i));
        Assert.Equal(expected, r.Total);
        Assert.Equal(1, time.TimersCreated);
        foreach (var t in timers)
            t.Dispose();
    }

    [Fact]
    public async Task A_disposed_scheduler_wakes_nothing()
    {
        var time = new FakeTimeProvider();
        var scheduler = new DeadlineScheduler(time);
        var r = new Recorder();
        var t = scheduler.Register(r.Fired, 1);
        t.Arm(time.GetUtcNow().AddSeconds(1));
        scheduler.Dispose();
        Assert.Equal(0, scheduler.ArmedCount);
        t.Arm(time.GetUtcNow().AddSeconds(1));
        Assert.Equal(0, scheduler.ArmedCount);
        time.Advance(TimeSpan.FromSeconds(5));
        // A live scheduler beside it, on the same clock, shows the thread pool has caught up.
        using var other = new DeadlineScheduler(time);
        using var witness = other.Register(r.Fired, 2);
        witness.Arm(time.GetUtcNow().AddSeconds(1));
        time.Advance(TimeSpan.FromSeconds(1));
        await FiredAsync(r, 1);
        Assert.Equal([2], r.Order);
    }
}
