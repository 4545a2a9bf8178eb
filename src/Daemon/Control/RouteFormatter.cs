using System.Globalization;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Daemon.Control;

/// <summary>BIRD 1.6's route lines: <c>rt_show_rte</c> (<c>1007</c>) and <c>rta_show</c> (<c>1008</c>/<c>1012</c>).</summary>
internal static class RouteFormatter
{
    private static readonly string[] SourceNames =
        ["dummy", "static", "inherit", "device", "static-device", "redirect", "RIP", "OSPF", "OSPF-IA", "OSPF-E1", "OSPF-E2", "BGP", "pipe", "Babel"];

    /// <summary>
    /// <c>"%-18s %s [%s %s%s]%s%s"</c>: prefix (empty for later routes of the same network),
    /// destination, protocol, time, <c> from X</c>, <c> *</c> for the best route, info.
    /// </summary>
    /// <remarks><paramref name="gateways"/> names the interface of a next hop the route itself does not.</remarks>
    public static string Line(string prefixColumn, Route route, bool primary, DateTimeOffset now, TimeZoneInfo zone, GatewayInterfaces? gateways = null)
    {
        var a = route.Attributes;
        var from = a.From is { } f && !f.IsUnspecified && a.From != a.Gateway ? $" from {f}" : "";
        return string.Format(CultureInfo.InvariantCulture, "{0,-18} {1} [{2} {3}{4}]{5}{6}",
            prefixColumn, Destination(a, gateways), route.Protocol.Name, BirdTime.Short(route.Since, now, zone), from,
            primary ? " *" : "", Info(route));
    }

    public static string Destination(PathAttributes a, GatewayInterfaces? gateways = null) => a.Dest switch
    {
        RouteDest.Router => $"via {a.Gateway} on {a.Interface ?? (a.Gateway is { } gw ? gateways?.Resolve(gw) : null) ?? "???"}",
        RouteDest.Device => $"dev {a.Interface ?? "???"}",
        RouteDest.Blackhole => "blackhole",
        RouteDest.Unreachable => "unreachable",
        RouteDest.Prohibit => "prohibited",
        RouteDest.Multipath => "multipath",
        _ => "???",
    };

    /// <summary>
    /// The next hops of a multipath route, one <c>1007</c> line each under its route line, as BIRD
    /// 1.6's rt_show_rte prints them: <c>\tvia GW on IF weight N</c>.
    /// </summary>
    public static void WriteNextHops(ReplyWriter reply, PathAttributes a)
    {
        if (a.Dest != RouteDest.Multipath || a.NextHops.IsDefault)
            return;
        foreach (var h in a.NextHops)
            reply.Line(1007, string.Create(CultureInfo.InvariantCulture, $"\tvia {h.Gateway} on {h.Interface} weight {h.Weight}"));
    }

    /// <summary>
    /// <c> (pref)</c>, or for BGP (<c>bgp_get_route_info</c>) <c> (pref/igp) [ASnnn origin]</c>, the
    /// <c>/igp</c> part only for a next hop resolved through the table (<c>gateway recursive</c>):
    /// <c>/-</c> when it did not resolve, <c>/?</c> through a route of unknown cost, else the cost
    /// (0 through a directly connected network, as Calico's peers are).
    /// </summary>
    public static string Info(Route route)
    {
        var a = route.Attributes;
        if (a.Source != RouteSource.Bgp)
            return $" ({route.Preference})";
        var origin = a.Origin is { } o ? "ie?"[(int)o].ToString() : "";
        var originAs = a.AsPath is { } path && path.LastAs != 0 ? $"AS{path.LastAs}" : "";
        var igp = !a.Recursive ? ""
            : a.NextHopUnresolved ? "/-"
            : a.IgpMetric is not { } metric || metric >= PathAttributes.IgpMetricUnknown ? "/?"
            : string.Create(CultureInfo.InvariantCulture, $"/{metric}");
        return $" ({route.Preference}{igp}) [{originAs}{origin}]";
    }

    /// <summary><c>show route all</c>: the <c>Type:</c> line and one line per extended attribute.</summary>
    public static void WriteAttributes(ReplyWriter reply, Route route)
    {
        var a = route.Attributes;
        var src = (int)a.Source < SourceNames.Length ? SourceNames[(int)a.Source] : "?";
        reply.Line(1008, $"\tType: {src} unicast univ");
        const int Code = 1012;
        if (a.Origin is { } origin)
            reply.Line(Code, $"\tBGP.origin: {origin switch { BgpOrigin.Igp => "IGP", BgpOrigin.Egp => "EGP", _ => "Incomplete" }}");
        if (a.AsPath is { } path)
            reply.Line(Code, $"\tBGP.as_path: {path}");
        if (a.NextHop is { } nh)
            reply.Line(Code, $"\tBGP.next_hop: {nh}{(a.NextHopLinkLocal is { } ll ? $" {ll}" : "")}");
        if (a.Med is { } med)
            reply.Line(Code, $"\tBGP.med: {med}");
        if (a.LocalPref is { } lp)
            reply.Line(Code, $"\tBGP.local_pref: {lp}");
        if (a.AtomicAggregate)
            reply.Line(Code, "\tBGP.atomic_aggr: ");
        if (a.AggregatorAs is { } aggAs)
            reply.Line(Code, $"\tBGP.aggregator: {a.AggregatorAddress} AS{aggAs}");
        if (!a.Communities.IsDefault)
            reply.Line(Code, $"\tBGP.community: {string.Join(' ', a.Communities)}");
        if (a.OriginatorId is { } oid)
            reply.Line(Code, $"\tBGP.originator_id: {BirdTime.RouterId(oid)}");
        if (!a.ClusterList.IsDefault)
            reply.Line(Code, $"\tBGP.cluster_list: {string.Join(' ', a.ClusterList.Select(BirdTime.RouterId))}");
        if (!a.ExtendedCommunities.IsDefault)
            reply.Line(Code, $"\tBGP.ext_community: {string.Join(' ', a.ExtendedCommunities.Select(ExtendedCommunity))}");
        if (!a.LargeCommunities.IsDefault)
            reply.Line(Code, $"\tBGP.large_community: {string.Join(' ', a.LargeCommunities)}");
        if (a.KrtSource is { } ks)
            reply.Line(Code, $"\tKernel.source: {ks}");
        if (a.KrtMetric is { } km)
            reply.Line(Code, $"\tKernel.metric: {km}");
    }

    /// <summary>BIRD's <c>ec_format</c> for the common kinds; others as <c>(generic, 0xHI, 0xLO)</c>.</summary>
    private static string ExtendedCommunity(ulong ec)
    {
        var type = (ushort)(ec >> 48);
        var kind = (type & 0xff) switch { 2 => "rt", 3 => "ro", _ => null };
        if (kind is not null && (type >> 8) is 0 or 2)
        {
            var global = (type >> 8) == 0 ? (ec >> 32) & 0xffff : (ec >> 16) & 0xffffffff;
            var local = (type >> 8) == 0 ? ec & 0xffffffff : ec & 0xffff;
            return $"({kind}, {global}, {local})";
        }
        return $"(generic, 0x{ec >> 32:x}, 0x{ec & 0xffffffff:x})";
    }
}
