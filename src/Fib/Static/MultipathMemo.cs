using System.Collections.Immutable;
using Calico.Bgp.Fib.Interfaces;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Fib.Static;

/// <summary>
/// The interned attributes of multipath static routes over one interface snapshot (one sync pass),
/// remembered for the last set of configured next hops: a run of routes behind the same gateways
/// works them out once and shares one attribute set and one hop array.
/// </summary>
internal struct MultipathMemo
{
    private ImmutableArray<StaticNextHop> _hops;
    private PathAttributes? _attrs;

    /// <summary>
    /// The attributes of a route over <paramref name="hops"/>: BIRD 1.6's static_install takes the
    /// next hops whose gateway is on a connected network of an up interface, makes a plain
    /// <c>via</c> route of a single one, and withdraws the route (null here) when there is none.
    /// </summary>
    public PathAttributes? Get(ImmutableArray<StaticNextHop> hops, InterfaceSnapshot links, AttributeCache cache)
    {
        if (!_hops.IsDefault && Same(_hops, hops))
            return _attrs;
        _hops = hops;
        _attrs = Resolve(hops, links, cache);
        return _attrs;
    }

    private static bool Same(ImmutableArray<StaticNextHop> a, ImmutableArray<StaticNextHop> b) =>
        a == b || (!b.IsDefault && a.AsSpan().SequenceEqual(b.AsSpan()));

    private static PathAttributes? Resolve(ImmutableArray<StaticNextHop> hops, InterfaceSnapshot links, AttributeCache cache)
    {
        if (hops.IsDefaultOrEmpty)
            return null;
        var reachable = ImmutableArray.CreateBuilder<MultipathHop>(hops.Length);
        foreach (var h in hops)
        {
            if (links.FindConnected(h.Gateway) is { } dev)
                reachable.Add(new MultipathHop(h.Gateway, dev.Name, h.Weight));
        }
        var a = reachable.Count switch
        {
            0 => null,
            // One next hop left is a route via it, as BIRD's fallback to a unipath route.
            1 => StaticProtocol.Via(reachable[0].Gateway, reachable[0].Interface),
            _ => new PathAttributes { Source = RouteSource.Static, Dest = RouteDest.Multipath, NextHops = reachable.ToImmutable() },
        };
        return a is null ? null : cache.Intern(a);
    }
}
