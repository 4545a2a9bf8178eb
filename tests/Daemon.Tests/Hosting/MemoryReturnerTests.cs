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
