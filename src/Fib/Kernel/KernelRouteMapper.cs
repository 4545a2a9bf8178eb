using System.Collections.Immutable;
using System.Runtime.InteropServices;
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
        // One object per route: the shape is worked out first, then built once.
        var type = KernelRouteType.Unicast;
        IpAddr? gateway = null;
        var oif = 0;
        var onlink = false;
        switch (a.Dest)
        {
            case RouteDest.Blackhole:
                type = KernelRouteType.Blackhole;
                break;
            case RouteDest.Unreachable:
                type = KernelRouteType.Unreachable;
                break;
            case RouteDest.Prohibit:
                type = KernelRouteType.Prohibit;
                break;
            case RouteDest.Router:
                if (!TryMapHop(a, links, out var hop))
                    return null;
                (gateway, oif, onlink) = (hop.Gateway, hop.InterfaceIndex, hop.Onlink);
                break;
            case RouteDest.Multipath:
                var hops = MultipathHops(a, links);
                if (hops.IsDefaultOrEmpty)
                    return null;
                if (hops.Length == 1)
                {
                    (gateway, oif) = (hops[0].Gateway, hops[0].InterfaceIndex);
                    break;
                }
                return new KernelRouteSpec { Prefix = prefix, Metric = a.KrtMetric, Table = table, Type = type, NextHops = hops };
            case RouteDest.Device:
                if (!deviceRoutes || a.Interface is null || links.ByName(a.Interface) is not { } d)
                    return null;
                oif = d.Index;
                break;
            default:
                return null;
        }
        return new KernelRouteSpec { Prefix = prefix, Metric = a.KrtMetric, Table = table, Type = type, Gateway = gateway, OutInterfaceIndex = oif, Onlink = onlink };
    }

    // The kernel hops of the last multipath route mapped on this thread (a kernel protocol maps on
    // its loop): routes behind the same next hops share one interned attribute set, so one hop array
    // serves them all.
    [ThreadStatic]
    private static MultipathHopsMemo? _lastMultipath;

    private sealed record MultipathHopsMemo(ImmutableArray<MultipathHop> From, InterfaceSnapshot Links, ImmutableArray<KernelNextHop> Hops);

    /// <summary>
    /// The kernel next hops of a multipath route (BIRD's <c>nl_add_multipath</c>: each hop's gateway,
    /// interface and weight, rtnh_hops = weight - 1), without a hop whose interface is gone.
    /// </summary>
    public static ImmutableArray<KernelNextHop> MultipathHops(PathAttributes a, InterfaceSnapshot links)
    {
        if (a.NextHops.IsDefaultOrEmpty)
            return default;
        if (_lastMultipath is { } memo && memo.From == a.NextHops && ReferenceEquals(memo.Links, links))
            return memo.Hops;
        var hops = ImmutableArray.CreateBuilder<KernelNextHop>(a.NextHops.Length);
        foreach (var h in a.NextHops)
        {
            if (links.ByName(h.Interface) is { } dev)
                AddHop(hops, new KernelNextHop(h.Gateway, dev.Index, Weight: h.Weight));
        }
        var result = hops.Count == hops.Capacity ? hops.MoveToImmutable() : hops.ToImmutable();
        _lastMultipath = new MultipathHopsMemo(a.NextHops, links, result);
        return result;
    }

    /// <summary>
    /// The next hop of a route via a router, without building a route: krt_tunnel naming an existing
    /// interface and a BGP next hop give <c>via NEXT_HOP dev TUNNEL onlink</c>, otherwise the gateway
    /// (or next hop) on the route's interface, if it names one. False when there is no usable gateway.
    /// </summary>
    public static bool TryMapHop(PathAttributes a, InterfaceSnapshot links, out KernelNextHop hop)
    {
        if (!string.IsNullOrEmpty(a.KrtTunnel) && a.NextHop is { } nh && links.ByName(a.KrtTunnel) is { } tunnel)
        {
            hop = new KernelNextHop(nh, tunnel.Index, Onlink: true);
            return true;
        }
        hop = default;
        if ((a.Gateway ?? a.NextHop) is not { } gw)
            return false;
        var oif = a.Interface is { } name && links.ByName(name) is { } dev ? dev.Index : 0;
        // A link-local IPv6 gateway means nothing without its interface.
        if (oif == 0 && gw.IsV6LinkLocal)
            return false;
        hop = new KernelNextHop(gw, oif);
        return true;
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
            if (o.Type == KernelRouteType.Unicast && !o.IsMultipath && o.Gateway is not null)
                AddHop(hops, new KernelNextHop(o.Gateway, o.OutInterfaceIndex, o.Onlink));
        }
        return WithHops(first, hops);
    }

    /// <summary>Adds <paramref name="hop"/> unless a hop with its gateway and interface is there already.</summary>
    public static void AddHop(ImmutableArray<KernelNextHop>.Builder hops, KernelNextHop hop)
    {
        // By index: the builder's enumerator is a class, one allocation per call.
        for (var i = 0; i < hops.Count; i++)
        {
            if (hops[i].Gateway == hop.Gateway && hops[i].InterfaceIndex == hop.InterfaceIndex)
                return;
        }
        hops.Add(hop);
    }

    /// <summary>
    /// The multipath route of <c>merge paths on</c> for <paramref name="entry"/>, whose best route
    /// (entry[0]) exported as <paramref name="best"/>, a route via a router: BIRD's
    /// <c>rt_export_merged</c>, the ECMP set of <see cref="DecisionProcess.MergePaths(RouteEntry, int)"/>
    /// (every route as good as the best through the IGP metric, never a stale or unresolved one, at
    /// most the limit, in the entry's order), each other path through the export filter. Walked in the
    /// entry in place, the hops gathered in <paramref name="scratch"/> (the caller's, reused), so a
    /// merged prefix allocates its route and its hop array only. Null when the best has no next hop.
    /// </summary>
    public static KernelRouteSpec? MapMerged(Prefix prefix, RouteEntry entry, PathAttributes best, in MergeContext context, ImmutableArray<KernelNextHop>.Builder scratch)
    {
        ImmutableArray<KernelNextHop> none = default;
        return MapMerged(prefix, entry, best, context, scratch, ref none);
    }

    /// <summary>
    /// <see cref="MapMerged(Prefix, RouteEntry, PathAttributes, in MergeContext, ImmutableArray{KernelNextHop}.Builder)"/>
    /// that shares <paramref name="lastHops"/> (the caller's, the hop array of the route it merged
    /// before) when the hops are the same, and keeps the new array there otherwise: prefixes behind the
    /// same ECMP set of next hops (every prefix of a set of nodes) then share one immutable array, and
    /// a merged prefix allocates its route only.
    /// </summary>
    public static KernelRouteSpec? MapMerged(Prefix prefix, RouteEntry entry, PathAttributes best, in MergeContext context, ImmutableArray<KernelNextHop>.Builder scratch, ref ImmutableArray<KernelNextHop> lastHops)
    {
        if (!TryMapHop(best, context.Links, out var first))
            return null;
        scratch.Clear();
        scratch.Add(first);
        var head = entry[0];
        for (int i = 1, merged = 1; i < entry.Count && merged < context.Limit && scratch.Count < context.Limit; i++)
        {
            var r = entry[i];
            if (!DecisionProcess.Mergeable(head, r))
                continue;
            merged++;
            // Never a route the kernel protocol learned itself back to the kernel.
            if (ReferenceEquals(r.Protocol, context.Self))
                continue;
            // Only BGP paths merge (DecisionProcess.Mergeable), so a path here is never a static
            // multipath route: each brings one next hop.
            if (context.Filter.Apply(r, context.Cache) is { Attributes: { Dest: RouteDest.Router } e } && TryMapHop(e, context.Links, out var hop))
                AddHop(scratch, hop);
        }
        return Unicast(prefix, best, context.Table, scratch, ref lastHops);
    }

    /// <summary>
    /// The unicast route of <paramref name="a"/> over <paramref name="hops"/> (as <see cref="Map"/>
    /// builds it for a router route): one next hop as gateway and device, two or more as RTA_MULTIPATH.
    /// Built once, without a single-path route first.
    /// </summary>
    /// <remarks>
    /// The multipath hop array is <paramref name="lastHops"/> when that holds the same hops in the same
    /// order (an immutable array is safe to share), else a new one, kept in <paramref name="lastHops"/>.
    /// </remarks>
    private static KernelRouteSpec Unicast(Prefix prefix, PathAttributes a, uint table, ImmutableArray<KernelNextHop>.Builder hops, ref ImmutableArray<KernelNextHop> lastHops)
    {
        if (hops.Count == 1)
        {
            var h = hops[0];
            return new KernelRouteSpec { Prefix = prefix, Metric = a.KrtMetric, Table = table, Type = KernelRouteType.Unicast, Gateway = h.Gateway, OutInterfaceIndex = h.InterfaceIndex, Onlink = h.Onlink };
        }
        if (!SameHops(lastHops, hops))
            lastHops = hops.ToImmutable();
        return new KernelRouteSpec { Prefix = prefix, Metric = a.KrtMetric, Table = table, Type = KernelRouteType.Unicast, NextHops = lastHops };
    }

    private static bool SameHops(ImmutableArray<KernelNextHop> shared, ImmutableArray<KernelNextHop>.Builder hops)
    {
        if (shared.IsDefault || shared.Length != hops.Count)
            return false;
        for (var i = 0; i < hops.Count; i++)
        {
            if (shared[i] != hops[i])
                return false;
        }
        return true;
    }

    /// <summary><paramref name="first"/> as a multipath route over <paramref name="hops"/>, or as it is with fewer than two.</summary>
    public static KernelRouteSpec WithHops(KernelRouteSpec first, ImmutableArray<KernelNextHop>.Builder hops) =>
        hops.Count < 2 ? first : first with { Gateway = null, OutInterfaceIndex = 0, Onlink = false, NextHops = hops.ToImmutable() };

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
    /// Takes one route of a dump into <paramref name="into"/>, one route per prefix: the first listed
    /// (the lowest metric, the one the kernel uses, as BIRD keeps one), with IPv6 multipath siblings
    /// listed apart joined back into one. The object <paramref name="held"/> from the last read stands
    /// for the route when nothing in it changed, so an unchanged route allocates nothing.
    /// </summary>
    public static void Keep(Dictionary<Prefix, KernelRouteSpec> into, Dictionary<Prefix, KernelRouteSpec> held, in RouteFields r, ReadOnlySpan<KernelNextHop> hops)
    {
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(into, r.Prefix, out var exists);
        if (!exists)
            slot = held.TryGetValue(r.Prefix, out var h) && r.SameAs(h, hops) ? h : r.ToSpec(hops);
        else if (JoinSiblings(slot!, r.ToSpec(hops)) is { } joined)
            slot = joined;
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

/// <summary>What <see cref="KernelRouteMapper.MapMerged"/> needs of its kernel protocol: the export filter, the interfaces, the table, the limit.</summary>
public readonly record struct MergeContext(RouteFilter Filter, AttributeCache Cache, Protocol? Self, InterfaceSnapshot Links, uint Table, int Limit);
