using System.Collections.Immutable;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Rib.Tests;

/// <summary>Each step of the decision process alone: two routes equal but for one thing.</summary>
public class DecisionProcessTests
{
    private static readonly Prefix P = Prefix.Parse("10.233.68.0/24");
    private readonly RoutingTable _table = new();

    private Route Bgp(PathAttributes attrs, string neighbor = "10.0.0.2", uint routerId = 2, bool external = false, int preference = 100, string? name = null)
    {
        var proto = new TestProtocol(name ?? $"Mesh_{neighbor.Replace('.', '_')}", _table, preference, new BgpPeerIdentity(IpAddr.Parse(neighbor), routerId, external));
        return Route.Create(P, attrs, proto);
    }

    private static PathAttributes Base => new()
    {
        Source = RouteSource.Bgp,
        Origin = BgpOrigin.Igp,
        AsPath = AsPath.FromSequence(65001),
        NextHop = IpAddr.Parse("10.0.0.9"),
    };

    private static void Better(Route winner, Route loser, BestPathReason reason)
    {
        Assert.True(DecisionProcess.Compare(winner, loser, out var r) < 0);
        Assert.Equal(reason, r);
        Assert.True(DecisionProcess.Compare(loser, winner, out r) > 0);
        Assert.Equal(reason, r);
    }

    [Fact]
    public void Higher_preference_wins_across_protocols()
    {
        var stat = Route.Create(P, new PathAttributes { Source = RouteSource.Static, Dest = RouteDest.Blackhole }, new TestProtocol("static1", _table, 200));
        Better(stat, Bgp(Base), BestPathReason.Preference);
    }

    [Fact]
    public void Higher_local_pref_wins() =>
        Better(Bgp(Base with { LocalPref = 200 }, "10.0.0.3"), Bgp(Base with { LocalPref = 100 }), BestPathReason.LocalPref);

    [Fact]
    public void Missing_local_pref_counts_as_100() =>
        Better(Bgp(Base with { LocalPref = 101 }, "10.0.0.3"), Bgp(Base), BestPathReason.LocalPref);

    [Fact]
    public void Shorter_as_path_wins() =>
        Better(Bgp(Base, "10.0.0.3"), Bgp(Base with { AsPath = AsPath.FromSequence(65001, 65002) }), BestPathReason.AsPathLength);

    [Fact]
    public void An_as_set_counts_as_one()
    {
        var withSet = new AsPath([new AsPathSegment(AsPathSegmentType.Sequence, [65001]), new AsPathSegment(AsPathSegmentType.Set, [1, 2, 3])]);
        Assert.Equal(2, withSet.Length);
        Better(Bgp(Base with { AsPath = withSet }, "10.0.0.3"), Bgp(Base with { AsPath = AsPath.FromSequence(1, 2, 3) }), BestPathReason.AsPathLength);
    }

    [Fact]
    public void Lower_origin_wins() =>
        Better(Bgp(Base, "10.0.0.3"), Bgp(Base with { Origin = BgpOrigin.Incomplete }), BestPathReason.Origin);

    [Fact]
    public void Lower_med_wins_from_the_same_neighbour_as() =>
        Better(Bgp(Base with { Med = 5 }, "10.0.0.3"), Bgp(Base with { Med = 10 }), BestPathReason.Med);

    [Fact]
    public void Med_is_not_compared_between_neighbour_ases()
    {
        // Different first AS: MED is skipped and the next steps decide (here: router id).
        var a = Bgp(Base with { Med = 50, AsPath = AsPath.FromSequence(65009) }, "10.0.0.3", routerId: 1);
        var b = Bgp(Base with { Med = 10 }, "10.0.0.2", routerId: 2);
        Better(a, b, BestPathReason.RouterId);
    }

    [Fact]
    public void External_beats_internal() =>
        Better(Bgp(Base, "10.0.0.3", external: true), Bgp(Base), BestPathReason.ExternalOverInternal);

    [Fact]
    public void Lower_router_id_wins() =>
        Better(Bgp(Base, "10.0.0.3", routerId: 1), Bgp(Base, routerId: 2), BestPathReason.RouterId);

    [Fact]
    public void Originator_id_stands_in_for_the_router_id_of_reflected_routes() =>
        Better(Bgp(Base with { OriginatorId = 1 }, "10.0.0.3", routerId: 9), Bgp(Base, routerId: 2), BestPathReason.RouterId);

    [Fact]
    public void Shorter_cluster_list_wins() =>
        Better(Bgp(Base with { ClusterList = [1] }, "10.0.0.3"), Bgp(Base with { ClusterList = [1, 2] }), BestPathReason.ClusterListLength);

    [Fact]
    public void Lower_neighbour_address_wins_last() =>
        Better(Bgp(Base, "10.0.0.2"), Bgp(Base, "10.0.0.3"), BestPathReason.NeighborAddress);

    [Fact]
    public void Stale_routes_lose_to_fresh_ones() =>
        Better(Bgp(Base, "10.0.0.3"), Bgp(Base with { LocalPref = 500 }).AsStale(), BestPathReason.Preference);

    [Fact]
    public void Cluster_list_default_is_empty() =>
        Assert.Equal(0, DecisionProcess.ByClusterListLength(Base, Base with { ClusterList = ImmutableArray<uint>.Empty }));

    [Fact]
    public void An_unresolvable_next_hop_never_wins()
    {
        // Not even with a better preference or LOCAL_PREF: a route that cannot forward is no candidate.
        Better(Bgp(Base, "10.0.0.3"), Bgp(Base with { NextHopUnresolved = true, LocalPref = 500 }, preference: 200), BestPathReason.NextHopUnresolved);
        var stat = Route.Create(P, new PathAttributes { Source = RouteSource.Static, Dest = RouteDest.Blackhole }, new TestProtocol("static1", _table, 10));
        Better(stat, Bgp(Base with { NextHopUnresolved = true }), BestPathReason.NextHopUnresolved);
    }

    [Fact]
    public void Lower_igp_metric_wins_after_external_over_internal_and_before_router_id()
    {
        Better(Bgp(Base with { IgpMetric = 10 }, "10.0.0.3", routerId: 9), Bgp(Base with { IgpMetric = 20 }, routerId: 1), BestPathReason.IgpMetric);
        Better(Bgp(Base with { IgpMetric = 50 }, "10.0.0.3", external: true), Bgp(Base with { IgpMetric = 1 }), BestPathReason.ExternalOverInternal);
    }

    [Fact]
    public void An_undefined_igp_metric_counts_as_zero()
    {
        Better(Bgp(Base, "10.0.0.3", routerId: 9), Bgp(Base with { IgpMetric = 1 }, routerId: 1), BestPathReason.IgpMetric);
        Assert.Equal(0, DecisionProcess.ByIgpMetric(Base, Base with { IgpMetric = 0 }));
    }

    [Fact]
    public void Merge_paths_gives_the_routes_equal_to_the_best_up_to_the_igp_metric()
    {
        var best = Bgp(Base, "10.0.0.2", routerId: 1);
        var twin = Bgp(Base with { ClusterList = [7] }, "10.0.0.3", routerId: 2);
        var farther = Bgp(Base with { IgpMetric = 5 }, "10.0.0.4", routerId: 3);
        var longer = Bgp(Base with { AsPath = AsPath.FromSequence(65001, 65002) }, "10.0.0.5", routerId: 4);
        var other = Bgp(Base with { OriginatorId = 3 }, "10.0.0.6", routerId: 9);
        var stale = Bgp(Base, "10.0.0.7", routerId: 5).AsStale();
        var routes = SortedThroughTable(best, twin, farther, longer, other, stale);
        Assert.Same(best, routes[0]);

        var merged = DecisionProcess.MergePaths(routes);
        Assert.Equal([best, twin, other], merged.ToArray());
        Assert.Equal([best, twin], DecisionProcess.MergePaths(routes, limit: 2).ToArray());
        Assert.False(DecisionProcess.Mergeable(best, farther));
        Assert.False(DecisionProcess.Mergeable(best, stale));
    }

    [Fact]
    public void Merge_paths_of_a_single_or_non_bgp_best_is_that_route_alone()
    {
        var stat = Route.Create(P, new PathAttributes { Source = RouteSource.Static, Dest = RouteDest.Blackhole }, new TestProtocol("static1", _table, 200));
        var routes = SortedThroughTable(stat, Bgp(Base));
        Assert.Equal([stat], DecisionProcess.MergePaths(routes).ToArray());
        Assert.True(DecisionProcess.MergePaths(ImmutableArray<Route>.Empty).IsEmpty);
    }

    /// <summary>Puts the routes in a table (which orders them by the decision process) and returns its entry's order.</summary>
    private static ImmutableArray<Route> SortedThroughTable(params Route[] routes)
    {
        var table = new RoutingTable();
        foreach (var r in routes)
            table.Update(r);
        return table.Find(P)!.Routes;
    }
}
