using Calico.Bgp.Daemon.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Calico.Bgp.Daemon.Tests.Hosting;

/// <summary>
/// After a big table went away the daemon gives its memory back with one full collection: once the
/// removals have settled, and at most once per interval however often big peers drop.
/// </summary>
public sealed class MemoryReturnerTests
{
    private readonly FakeTimeProvider _time = new();
    private int _collections;

    private MemoryReturner Returner() => new(_time, NullLogger.Instance, () => _collections++);

    [Fact]
    public void One_collection_comes_once_the_removals_have_settled()
    {
        using var returner = Returner();
        returner.Removed(50_000);
        _time.Advance(MemoryReturner.Settle / 2);
        returner.Removed(50_000); // another peer drops: the wait starts again
        _time.Advance(MemoryReturner.Settle / 2);
        Assert.Equal(0, _collections);
        _time.Advance(MemoryReturner.Settle / 2);
        Assert.Equal(1, _collections);
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(1, _collections);
    }

    [Fact]
    public void A_flapping_big_peer_costs_one_collection_per_interval_at_most()
    {
        using var returner = Returner();
        returner.Removed(20_000);
        _time.Advance(MemoryReturner.Settle);
        Assert.Equal(1, _collections);
        returner.Removed(20_000);
        _time.Advance(MemoryReturner.Settle);
        Assert.Equal(1, _collections);
        _time.Advance(MemoryReturner.MinInterval - MemoryReturner.Settle - TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, _collections);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(2, _collections);
    }

    [Fact]
    public void Nothing_comes_after_dispose()
    {
        var returner = Returner();
        returner.Removed(20_000);
        returner.Dispose();
        _time.Advance(TimeSpan.FromMinutes(1));
        returner.Removed(20_000);
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(0, _collections);
    }
}

/// <summary>
/// After a burst of work (sessions set up, a table arriving) the daemon collects once it has gone
/// quiet, so the burst's garbage does not stay resident until the GC's next collection.
/// </summary>
public sealed class MemoryReturnerQuietTests
{
    private const long MiB = 1 << 20;
    private readonly FakeTimeProvider _time = new();
    private readonly List<DateTimeOffset> _collected = [];
    private long _allocated = 100 * MiB;
    private long _heap = 20 * MiB;

    // Collections of the young generation: ours (counted) and the GC's own (the count a look reads).
    private int _youngCollected;
    private int _youngCount;

    private int Collections => _collected.Count;

    private MemoryReturner Watching(bool settleStartUp = false)
    {
        var r = new MemoryReturner(
            _time,
            NullLogger.Instance,
            () => _collected.Add(_time.GetUtcNow()),
            () => _allocated,
            () => _heap,
            () =>
            {
                _youngCollected++;
                _youngCount++;
            },
            () => _youngCount);
        r.WatchForQuiet(settleStartUp);
        return r;
    }

    /// <summary>One look later, with <paramref name="bytes"/> allocated in between.</summary>
    private void Look(long bytes)
    {
        _allocated += bytes;
        _time.Advance(MemoryReturner.QuietCheck);
    }

    [Fact]
    public void A_burst_is_collected_once_the_daemon_goes_quiet_and_only_once()
    {
        using var returner = Watching();
        for (var i = 0; i < 5; i++)
            Look(4 * MiB); // 500 sessions coming up
        Assert.Equal(0, Collections);
        Look(10 * 1024);
        Assert.Equal(1, Collections);
        // Idle from then on: what it allocates stays under a burst for a long while.
        for (var i = 0; i < 100; i++)
            Look(2 * 1024);
        Assert.Equal(1, Collections);
    }

    [Fact]
    public void A_daemon_that_stays_busy_is_never_given_a_full_collection()
    {
        using var returner = Watching();
        for (var i = 0; i < 200; i++)
            Look(MemoryReturner.QuietBytes);
        Assert.Equal(0, Collections);
    }

    [Fact]
    public void A_slow_busy_daemon_has_its_young_generation_collected_at_each_burst()
    {
        using var returner = Watching();
        // A reflector under steady churn: busy at every look, a megabyte between looks.
        for (var i = 0; i < 3; i++)
            Look(MiB);
        Assert.Equal(0, _youngCollected);
        Look(MiB);
        Assert.Equal(1, _youngCollected);
        for (var i = 0; i < 4; i++)
            Look(MiB);
        Assert.Equal(2, _youngCollected);
        Assert.Equal(0, Collections);
        // Then it goes quiet: the full collection for the whole burst, as after any other.
        Look(0);
        Assert.Equal(1, Collections);
        Assert.Equal(2, _youngCollected);
    }

    [Fact]
    public void The_GCs_own_young_collection_starts_the_count_again()
    {
        using var returner = Watching();
        Look(3 * MiB);
        _youngCount++; // the GC collected on its own
        Look(MiB);
        Look(2 * MiB);
        Assert.Equal(0, _youngCollected);
        Look(2 * MiB);
        Assert.Equal(1, _youngCollected);
    }

    [Fact]
    public void A_fast_daemon_is_left_to_the_GC()
    {
        using var returner = Watching();
        for (var i = 0; i < 20; i++)
            Look(MemoryReturner.SlowBytes); // a full table arriving
        Assert.Equal(0, _youngCollected);
        Assert.Equal(0, Collections);
    }

    [Fact]
    public void Less_than_a_burst_is_not_worth_a_collection()
    {
        using var returner = Watching();
        Look(MemoryReturner.BurstBytes - 1);
        for (var i = 0; i < 20; i++)
            Look(0);
        Assert.Equal(0, Collections);
        // Slowly, over many quiet looks, it adds up to a burst's worth: then one collection.
        for (var i = 0; i < 20 && Collections == 0; i++)
            Look(1024);
        Assert.Equal(1, Collections);
    }

    [Fact]
    public void A_large_heap_is_left_to_the_GC()
    {
        _heap = MemoryReturner.LargeHeapBytes;
        using var returner = Watching();
        Look(200 * MiB); // a million routes arrived
        for (var i = 0; i < 20; i++)
            Look(0);
        Assert.Equal(0, Collections);
    }

    [Fact]
    public void A_burst_right_after_a_collection_waits_for_the_interval()
    {
        using var returner = Watching();
        returner.Removed(50_000);
        _time.Advance(MemoryReturner.Settle);
        Assert.Equal(1, Collections);
        Look(8 * MiB);
        Look(0);
        Assert.Equal(1, Collections);
        // Still quiet once the interval has passed since the removal's collection: now it comes.
        for (var i = 0; i < 10 && Collections == 1; i++)
            Look(0);
        Assert.Equal(2, Collections);
        Assert.InRange(_collected[1] - _collected[0], MemoryReturner.MinInterval, MemoryReturner.MinInterval + 2 * MemoryReturner.QuietCheck);
    }

    [Fact]
    public void A_reload_is_given_back_at_the_next_quiet_look_however_little_it_allocated()
    {
        using var returner = Watching();
        Look(MiB); // `configure`: the config read again, the protocols diffed
        returner.Reloaded();
        Assert.Equal(0, Collections);
        Look(10 * 1024);
        Assert.Equal(1, Collections);
        // Once: idle looks after it, and the same allocation without a reload, collect nothing more.
        Look(MiB);
        for (var i = 0; i < 20; i++)
            Look(0);
        Assert.Equal(1, Collections);
    }

    [Fact]
    public void Start_ups_tail_is_given_back_at_the_first_quiet_look_when_asked()
    {
        using var returner = Watching(settleStartUp: true);
        Look(MiB); // the first scans and connection attempts
        Assert.Equal(0, Collections);
        Look(1024);
        Assert.Equal(1, Collections);
        for (var i = 0; i < 20; i++)
            Look(1024);
        Assert.Equal(1, Collections);
    }

    [Fact]
    public void A_reload_waits_while_busy_and_for_the_interval_after_the_last_collection()
    {
        using var returner = Watching();
        Look(8 * MiB);
        Look(0);
        Assert.Equal(1, Collections); // a burst went quiet
        returner.Reloaded();
        Look(MemoryReturner.QuietBytes); // still busy: not now
        Assert.Equal(1, Collections);
        for (var i = 0; i < 10 && Collections == 1; i++)
            Look(0);
        Assert.Equal(2, Collections);
        Assert.InRange(_collected[1] - _collected[0], MemoryReturner.MinInterval, MemoryReturner.MinInterval + 2 * MemoryReturner.QuietCheck);
    }

    [Fact]
    public void What_start_up_allocated_before_the_watch_does_not_count()
    {
        _allocated = 500 * MiB;
        using var returner = Watching();
        for (var i = 0; i < 20; i++)
            Look(0);
        Assert.Equal(0, Collections);
    }

    [Fact]
    public void No_look_collects_after_dispose()
    {
        var returner = Watching();
        Look(8 * MiB);
        returner.Dispose();
        for (var i = 0; i < 20; i++)
            Look(0);
        Assert.Equal(0, Collections);
    }
}
