using System.Collections.Immutable;

namespace Calico.Bgp.Rib;

public static partial class DecisionProcess
{
    /// <summary>
    /// BIRD 1.6's <c>rte_mergable</c> for two BGP routes (<c>bgp_rte_mergable</c>): as good as each
    /// other through every step up to and including the IGP metric, so they may share traffic as one
    /// multipath route; only the router-id, cluster-list and neighbour-address tie-breakers may differ.
    /// Stale and unresolvable routes merge with nothing.
    /// </summary>
    public static bool Mergeable(Route best, Route other)
    {
        if (best.Protocol.BgpPeer is not { } pa || other.Protocol.BgpPeer is not { } pb)
            return false;
        if (best.Stale || other.Stale || best.Attributes.NextHopUnresolved || other.Attributes.NextHopUnresolved)
            return false;
        var x = best.Attributes;
        var y = other.Attributes;
        return ByPreference(best, other) == 0
            && ByLocalPref(x, y) == 0
            && ByAsPathLength(x, y) == 0
            && ByOrigin(x, y) == 0
            && ByMed(x, y) == 0
            && ByExternal(pa, pb) == 0
            && ByIgpMetric(x, y) == 0;
    }

    /// <summary>
    /// The ECMP set of <c>merge paths on</c>: the best route and every other route of
    /// <paramref name="routes"/> (best first, as a <see cref="RouteEntry"/> holds them) mergeable with
    /// it, in order, at most <paramref name="limit"/> of them (BIRD's <c>merge paths on limit N</c>).
    /// Like BIRD's <c>rt_export_merged</c> it looks at every route rather than stopping at the first
    /// one that is not mergeable, because MED makes the order of BGP routes not a total one.
    /// A single route (or none) when nothing merges.
    /// </summary>
    public static ImmutableArray<Route> MergePaths(ImmutableArray<Route> routes, int limit = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        if (routes.IsDefaultOrEmpty)
            return [];
        var best = routes[0];
        var count = 1;
        for (var i = 1; i < routes.Length && count < limit; i++)
        {
            if (Mergeable(best, routes[i]))
                count++;
        }
        if (count == 1)
            return [best];
        var merged = ImmutableArray.CreateBuilder<Route>(count);
        merged.Add(best);
        for (var i = 1; i < routes.Length && merged.Count < count; i++)
        {
            if (Mergeable(best, routes[i]))
                merged.Add(routes[i]);
        }
        return merged.MoveToImmutable();
    }

    /// <summary>The ECMP set of an entry's routes (see <see cref="MergePaths(ImmutableArray{Route}, int)"/>).</summary>
    public static ImmutableArray<Route> MergePaths(RouteEntry entry, int limit = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        // Most prefixes have one route: answer without materialising the entry's list.
        return entry.Count switch
        {
            0 => [],
            1 => [entry[0]],
            _ => MergePaths(entry.Routes, limit),
        };
    }
}
