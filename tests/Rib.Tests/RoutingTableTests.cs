using Calico.Bgp.Rib;

namespace Calico.Bgp.Rib.Tests;

public class RoutingTableTests
{
    private static readonly Prefix P = Prefix.Parse("10.50.1.0/24");

    [Fact]
    public void Best_route_is_first_and_follows_updates_and_withdrawals()
    {
        var table = new RoutingTable();
        var stat = new TestProtocol("static1", table, 200);
        var bgp = new TestProtocol("Mesh_10_0_0_2", table, 100, new BgpPeerIdentity(IpAddr.Parse("10.0.0.2"), 2, false));
        var blackhole = table.Attributes.Intern(new PathAttributes { Source = RouteSource.Static, Dest = RouteDest.Blackhole });
        var learned = table.Attributes.Intern(new PathAttributes { Source = RouteSource.Bgp, NextHop = IpAddr.Parse("10.0.0.2") });

        table.Update(Route.Create(P, learned, bgp));
        Assert.Same(bgp, table.Find(P)!.Best!.Protocol);
        table.Update(Route.Create(P, blackhole, stat));
        Assert.Same(stat, table.Find(P)!.Best!.Protocol);
        Assert.Equal(2, table.Find(P)!.Routes.Length);

        Assert.True(table.Withdraw(P, stat));
        Assert.Same(bgp, table.Find(P)!.Best!.Protocol);
        Assert.False(table.Withdraw(P, stat));
        Assert.Equal(1, table.WithdrawAll(bgp));
        Assert.Null(table.Find(P));
        Assert.Equal(0, table.PrefixCount);
    }

    [Fact]
    public void A_route_replaces_the_one_in_its_slot_and_path_ids_keep_separate_slots()
    {
        var table = new RoutingTable();
        var bgp = new TestProtocol("b", table, 100, new BgpPeerIdentity(IpAddr.Parse("10.0.0.2"), 2, false));
        var a1 = table.Attributes.Intern(new PathAttributes { Source = RouteSource.Bgp, LocalPref = 100 });
        var a2 = table.Attributes.Intern(new PathAttributes { Source = RouteSource.Bgp, LocalPref = 300 });
        table.Update(Route.Create(P, a1, bgp, pathId: 1));
        table.Update(Route.Create(P, a1, bgp, pathId: 2));
        table.Update(Route.Create(P, a2, bgp, pathId: 1));
        var entry = table.Find(P)!;
        Assert.Equal(2, entry.Routes.Length);
        Assert.Equal(1u, entry.Best!.PathId);
        Assert.Same(a2, entry.Best.Attributes);
    }

    [Fact]
    public void Interning_makes_equal_attribute_sets_one_object()
    {
        var cache = new AttributeCache();
        var a = cache.Intern(new PathAttributes { Source = RouteSource.Bgp, AsPath = AsPath.FromSequence(1, 2), Communities = [new Community(65000, 100)] });
        var b = cache.Intern(new PathAttributes { Source = RouteSource.Bgp, AsPath = AsPath.FromSequence(1, 2), Communities = [new Community(65000, 100)] });
        var c = cache.Intern(new PathAttributes { Source = RouteSource.Bgp, AsPath = AsPath.FromSequence(1, 2) });
        Assert.Same(a, b);
        Assert.NotSame(a, c);
        Assert.Equal(2, cache.Count);
        // Held to the end: a collection (other tests force them) would let a sweep forget them.
        GC.KeepAlive(a);
        GC.KeepAlive(c);
    }

    [Fact]
    public void A_journal_reader_sees_the_initial_table_and_then_each_change_but_no_unchanged_update()
    {
        var table = new RoutingTable();
        var stat = new TestProtocol("static1", table, 200);
        var attrs = table.Attributes.Intern(new PathAttributes { Source = RouteSource.Static, Dest = RouteDest.Blackhole });
        var q = Prefix.Parse("10.60.1.0/24");
        table.Update(Route.Create(P, attrs, stat));

        using var reader = table.SubscribeJournal("test");
        var first = new List<RouteEntry>();
        reader.Resync(first);
        Assert.Equal([P], first.Select(e => e.Prefix));

        // Each change of q is read in order; the same route again for P is no change.
        table.Update(Route.Create(q, attrs, stat));
        table.Withdraw(q, stat);
        table.Update(Route.Create(q, attrs, stat));
        Assert.Equal(RouteUpdate.Unchanged, table.Update(Route.Create(P, attrs, stat)));
        var changes = new TableChange[8];
        Assert.Equal(3, reader.TryRead(changes));
        Assert.All(changes[..3], c => Assert.Equal(q, c.Prefix));
        Assert.Equal([false, true, false], changes[..3].Select(c => c.Entry.IsEmpty));
        Assert.Equal(0, reader.TryRead(changes));
    }

    [Fact]
    public void Graceful_restart_marks_routes_stale_and_sweeps_only_the_stale_ones()
    {
        var table = new RoutingTable();
        var bgp = new TestProtocol("b", table, 100, new BgpPeerIdentity(IpAddr.Parse("10.0.0.2"), 2, false));
        var attrs = table.Attributes.Intern(new PathAttributes { Source = RouteSource.Bgp });
        var q = Prefix.Parse("10.60.1.0/24");
        table.Update(Route.Create(P, attrs, bgp));
        table.Update(Route.Create(q, attrs, bgp));
        Assert.Equal(2, table.MarkStale(bgp));
        Assert.True(table.Find(P)!.Best!.Stale);
        // The restarted peer re-announces P only.
        table.Update(Route.Create(P, attrs, bgp));
        Assert.False(table.Find(P)!.Best!.Stale);
        Assert.Equal(1, table.WithdrawStale(bgp));
        Assert.NotNull(table.Find(P));
        Assert.Null(table.Find(q));
    }
}
