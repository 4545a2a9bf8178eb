using Calico.Bgp.Rib;

namespace Calico.Bgp.Rib.Tests;

/// <summary>
/// Removing entries in the map's own slot order (a table withdrawn by walking it) must leave an
/// array whose probes stay short after each rebuild; with one hash for every array size the
/// survivors were packed into one run and removal became quadratic.
/// </summary>
public class PrefixMapRemovalOrderTests
{
    private readonly RoutingTable _owner = new();
    private readonly TestProtocol _protocol;
    private long _version;

    public PrefixMapRemovalOrderTests() => _protocol = new TestProtocol("p", _owner);

    private static Prefix V4(int i) => new(IpAddr.FromV4(0x0A000000u + ((uint)i << 8)), 24);

    private RouteEntry Entry(Prefix prefix) => RouteEntry.Seal(prefix, Route.Create(prefix, PathAttributes.Empty, _protocol), ++_version);

    /// <summary>The removal of <paramref name="prefix"/> as the table makes it: an empty entry that is also the tombstone.</summary>
    private RouteEntry Gone(Prefix prefix) => RouteEntry.Seal(prefix, null, ++_version);

    [Fact]
    public void Removing_in_slot_order_keeps_probe_runs_short_after_rebuilds()
    {
        const int n = 50_000;
        var map = new PrefixMap();
        for (var i = 0; i < n; i++)
            map.Set(Entry(V4(i)));
        var capacity = map.Capacity;
        var removed = 0;
        // Walk the array the map had before any removal, as RoutingTable.RemoveWhere does.
        foreach (var entry in map.Entries())
        {
            Assert.True(map.Remove(Gone(entry.Prefix)));
            if (++removed == n * 7 / 8)
                break;
        }
        Assert.True(map.Capacity < capacity, "the removals rebuilt the array smaller");
        Assert.Equal(n - removed, map.Count);
        // At a load of at most 3/4 a random layout's longest run is tens of slots; the packed one was
        // as long as the entries left (6,250 here).
        Assert.True(map.LongestRun() < 500, $"longest run {map.LongestRun()} of {map.Capacity} slots");
        for (var i = 0; i < n; i++)
        {
            var e = map.Find(V4(i));
            Assert.True(e is null || e.Prefix == V4(i));
        }
    }

    [Fact]
    public void A_table_withdrawn_whole_is_empty_and_small()
    {
        var table = new RoutingTable();
        var p = new TestProtocol("q", table);
        for (var i = 0; i < 20_000; i++)
            table.Update(Route.Create(V4(i), PathAttributes.Empty, p));
        Assert.Equal(20_000, table.WithdrawAll(p));
        Assert.Equal(0, table.PrefixCount);
        Assert.Empty(table.Entries);
    }

    [Fact]
    public void Update_says_whether_it_added_replaced_or_changed_nothing()
    {
        var table = new RoutingTable();
        var p = new TestProtocol("u", table);
        var a = table.Attributes.Intern(PathAttributes.Empty with { LocalPref = 100 });
        var b = table.Attributes.Intern(PathAttributes.Empty with { LocalPref = 200 });
        Assert.Equal(RouteUpdate.Added, table.Update(Route.Create(V4(1), a, p)));
        Assert.Equal(RouteUpdate.Unchanged, table.Update(Route.Create(V4(1), a, p)));
        Assert.Equal(RouteUpdate.Replaced, table.Update(Route.Create(V4(1), b, p)));
        Assert.Equal(RouteUpdate.Added, table.Update(Route.Create(V4(1), a, p, pathId: 7)));
        Assert.Equal(2, table.Find(V4(1))!.Count);
    }
}
