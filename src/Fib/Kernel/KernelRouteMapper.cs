using System.Collections.Immutable;
using Calico.Bgp.Fib.Interfaces;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Fib.Kernel;

/// <summary>
/// From routes in the table to the kernel route that carries them: BIRD 1.6's <c>nl_send_route</c>
/// with Calico's <c>krt_tunnel</c> (sysdep/linux/netlink.c in projectcalico/bird).
/// </summary>
public static class KernelRouteMapper
{
    /// <summary>
    /// The kernel route for one exported route, or null when it has no kernel shape (no gateway, an
    /// unknown device, a device route without <c>device routes</c>).
    /// </summary>
    public static KernelRouteSpec? Map(Prefix prefix, PathAttributes a, InterfaceSnapshot links, uint table, bool deviceRoutes)
    {
        var spec = new KernelRouteSpec { Prefix = prefix, Metric = a.KrtMetric, Table = table };
        switch (a.Dest)
        {
            case RouteDest.Blackhole:
                return spec with { Type = KernelRouteType.Blackhole };
            case RouteDest.Unreachable:
                return spec with { Type = KernelRouteType.Unreachable };
            case RouteDest.Prohibit:
                return spec with { Type = KernelRouteType.Prohibit };
            case RouteDest.Router:
                // krt_tunnel naming an existing interface and a BGP next hop: via NEXT_HOP dev TUNNEL onlink.
                if (!string.IsNullOrEmpty(a.KrtTunnel) && a.NextHop is { } nh && links.ByName(a.KrtTunnel) is { } tunnel)
                    return spec with { Gateway = nh, OutInterfaceIndex = tunnel.Index, Onlink = true };
                var gw = a.Gateway ?? a.NextHop;
                if (gw is null)
                    return null;
                var oif = a.Interface is { } name && links.ByName(name) is { } dev ? dev.Index : 0;
                // A link-local IPv6 gateway means nothing without its interface.
                if (oif == 0 && gw.Value.IsV6LinkLocal)
                    return null;
                return spec with { Gateway = gw, OutInterfaceIndex = oif };
            case RouteDest.Device:
                if (!deviceRoutes || a.Interface is null || links.ByName(a.Interface) is not { } d)
                    return null;
                return spec with { OutInterfaceIndex = d.Index };
            default:
                return null;
        }
    }

    /// <summary>Joins single-path unicast shapes into one multipath route (RTA_MULTIPATH), dropping duplicates.</summary>
    public static KernelRouteSpec Merge(KernelRouteSpec first, IEnumerable<KernelRouteSpec> others, int limit)
    {
        var hops = ImmutableArray.CreateBuilder<KernelNextHop>();
        hops.Add(new KernelNextHop(first.Gateway, first.OutInterfaceIndex, first.Onlink));
        foreach (var o in others)
        {
            if (hops.Count >= limit)
                break;
            if (o.Type != KernelRouteType.Unicast || o.IsMultipath || o.Gateway is null)
                continue;
            var hop = new KernelNextHop(o.Gateway, o.OutInterfaceIndex, o.Onlink);
            if (!hops.Any(h => h.Gateway == hop.Gateway && h.InterfaceIndex == hop.InterfaceIndex))
                hops.Add(hop);
        }
        if (hops.Count < 2)
            return first;
        return first with { Gateway = null, OutInterfaceIndex = 0, Onlink = false, NextHops = hops.ToImmutable() };
    }

    /// <summary>
    /// A learned (alien) kernel route as table attributes: BIRD's <c>nl_parse_route</c> makes it
    /// RTS_INHERIT with krt_metric and krt_source. A multipath route gives one set per next hop, in
    /// the kernel's order, so every hop is kept (the table holds them as paths of one prefix).
    /// Empty when the route has no shape the table models (a hop on an unknown device).
    /// </summary>
    public static ImmutableArray<PathAttributes> ToLearnedPaths(KernelRouteSpec k, InterfaceSnapshot links)
    {
        var a = new PathAttributes { Source = RouteSource.Inherit, KrtMetric = k.Metric ?? 0, KrtSource = k.Protocol };
        switch (k.Type)
        {
            case KernelRouteType.Blackhole:
                return [a with { Dest = RouteDest.Blackhole }];
            case KernelRouteType.Unreachable:
                return [a with { Dest = RouteDest.Unreachable }];
            case KernelRouteType.Prohibit:
                return [a with { Dest = RouteDest.Prohibit }];
            case KernelRouteType.Unicast when k.IsMultipath:
                var paths = ImmutableArray.CreateBuilder<PathAttributes>(k.NextHops.Length);
                foreach (var hop in k.NextHops)
                {
                    if (Hop(a, hop.Gateway, hop.InterfaceIndex, links) is not { } p)
                        return [];
                    paths.Add(p);
                }
                return paths.MoveToImmutable();
            case KernelRouteType.Unicast:
                return Hop(a, k.Gateway, k.OutInterfaceIndex, links) is { } single ? [single] : [];
            default:
                return [];
        }
    }

    private static PathAttributes? Hop(PathAttributes a, IpAddr? gateway, int oif, InterfaceSnapshot links)
    {
        var ifname = links.ByIndex(oif)?.Name;
        if (gateway is { } g)
            return a with { Dest = RouteDest.Router, Gateway = g, Interface = ifname };
        return ifname is null ? null : a with { Dest = RouteDest.Device, Interface = ifname };
    }

    /// <summary>
    /// Joins two dump entries that are siblings of one IPv6 multipath route: kernels before 4.11 list
    /// each next hop of an IPv6 ECMP route as its own route (rt6_fill_node), newer ones send one
    /// RTA_MULTIPATH; both read back as the one route that was written.
    /// </summary>
    public static KernelRouteSpec? JoinSiblings(KernelRouteSpec first, KernelRouteSpec next)
    {
        if (!first.Prefix.IsV6 || first.Prefix != next.Prefix || first.Type != KernelRouteType.Unicast || next.Type != KernelRouteType.Unicast
            || first.EffectiveMetric != next.EffectiveMetric || first.Protocol != next.Protocol || first.Table != next.Table)
            return null;
        var hops = ImmutableArray.CreateBuilder<KernelNextHop>();
        foreach (var r in (ReadOnlySpan<KernelRouteSpec>)[first, next])
        {
            if (r.IsMultipath)
                hops.AddRange(r.NextHops);
            else
                hops.Add(new KernelNextHop(r.Gateway, r.OutInterfaceIndex, r.Onlink));
        }
        return first with { Gateway = null, OutInterfaceIndex = 0, Onlink = false, NextHops = hops.ToImmutable() };
    }
}
