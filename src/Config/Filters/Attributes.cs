using System.Collections.Immutable;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Config.Filters;

/// <summary>A route attribute as the filter language sees it.</summary>
/// <param name="Write">Null for read-only attributes (<c>net</c>, <c>source</c>, <c>proto</c>, <c>ifname</c>).</param>
/// <param name="Unset">Null when <c>unset()</c> does not apply (static attributes).</param>
internal sealed record AttributeInfo(
    string Name,
    FilterType Type,
    Func<FilterState, bool> Defined,
    Eval Read,
    Action<FilterState, FilterValue>? Write,
    Action<FilterState>? Unset);

/// <summary>
/// The attributes of BIRD 1.6 that Calico's filters use, mapped onto <see cref="PathAttributes"/>
/// and <see cref="Route"/>. Static attributes (net, source, proto, ifname, dest, gw, from,
/// preference) are always defined, as in BIRD; the others are undefined when null, and reading an
/// undefined one is a runtime error, except community lists, which read as empty.
/// </summary>
internal static class Attributes
{
    private static readonly Dictionary<string, AttributeInfo> Table = Build();

    public static AttributeInfo? Find(string name) => Table.GetValueOrDefault(name);

    private static FilterRuntimeException Undefined(string name) => new($"attribute {name} is undefined");

    private static uint ToU32(FilterValue v) => unchecked((uint)v.Int);

    private static Dictionary<string, AttributeInfo> Build()
    {
        static bool Always(FilterState s) => true;
        var list = new List<AttributeInfo>
        {
            new("net", FilterType.Prefix, Always, s => FilterValue.FromPrefix(s.Route.Prefix), null, null),
            new("source", FilterType.Source, Always, s => FilterValue.FromInt((long)s.Attrs.Source), null, null),
            new("proto", FilterType.String, Always, s => FilterValue.FromObj(s.Route.Protocol.Name), null, null),
            // BIRD 1.6 reads a route without interface as "".
            new("ifname", FilterType.String, Always, s => FilterValue.FromObj(s.Attrs.Interface ?? ""), null, null),
            new("dest", FilterType.Dest, Always, s => FilterValue.FromInt((long)s.Attrs.Dest),
                (s, v) => s.Attrs = s.Attrs with { Dest = (RouteDest)v.Int }, null),
            new("gw", FilterType.Ip, Always, s => FilterValue.FromIp(s.Attrs.Gateway ?? Any(s)),
                (s, v) => s.Attrs = s.Attrs with { Gateway = v.Ip }, null),
            new("from", FilterType.Ip, Always, s => FilterValue.FromIp(s.Attrs.From ?? Any(s)),
                (s, v) => s.Attrs = s.Attrs with { From = v.Ip }, null),
            new("preference", FilterType.Int, Always, s => FilterValue.FromInt(s.Preference),
                (s, v) =>
                {
                    if (v.Int is < 0 or > 0xFFFF)
                        throw new FilterRuntimeException("Setting preference value out of bounds");
                    s.Preference = (int)v.Int;
                }, null),
            Optional("krt_metric", FilterType.Int, a => a.KrtMetric is { } m ? FilterValue.FromInt(m) : null,
                (a, v) => a with { KrtMetric = ToU32(v) }, a => a with { KrtMetric = null }),
            Optional("krt_tunnel", FilterType.String, a => a.KrtTunnel is { } t ? FilterValue.FromObj(t) : null,
                (a, v) => a with { KrtTunnel = v.String }, a => a with { KrtTunnel = null }),
            Optional("bgp_local_pref", FilterType.Int, a => a.LocalPref is { } p ? FilterValue.FromInt(p) : null,
                (a, v) => a with { LocalPref = ToU32(v) }, a => a with { LocalPref = null }),
            Optional("bgp_med", FilterType.Int, a => a.Med is { } m ? FilterValue.FromInt(m) : null,
                (a, v) => a with { Med = ToU32(v) }, a => a with { Med = null }),
            Optional("bgp_next_hop", FilterType.Ip, a => a.NextHop is { } n ? FilterValue.FromIp(n) : null,
                (a, v) => a with { NextHop = v.Ip }, a => a with { NextHop = null }),
            Optional("bgp_origin", FilterType.Origin, a => a.Origin is { } o ? FilterValue.FromInt((long)o) : null,
                (a, v) => a with { Origin = (BgpOrigin)v.Int }, a => a with { Origin = null }),
            Optional("bgp_path", FilterType.Path, a => a.AsPath is { } p ? FilterValue.FromObj(p) : null,
                (a, v) => a with { AsPath = (AsPath)v.Obj! }, a => a with { AsPath = null }),
            Optional("bgp_originator_id", FilterType.Quad, a => a.OriginatorId is { } o ? FilterValue.FromInt(o) : null,
                (a, v) => a with { OriginatorId = ToU32(v) }, a => a with { OriginatorId = null }),
            List("bgp_community", FilterType.Clist, a => a.Communities.IsDefault ? [] : a.Communities,
                (a, v) => a with { Communities = (ImmutableArray<Community>)v.Obj! }, a => a with { Communities = default }),
            List("bgp_large_community", FilterType.LClist, a => a.LargeCommunities.IsDefault ? [] : a.LargeCommunities,
                (a, v) => a with { LargeCommunities = (ImmutableArray<LargeCommunity>)v.Obj! }, a => a with { LargeCommunities = default }),
            // BIRD 1.6 keeps the cluster list as an int set; it reads here as a clist of raw 32-bit values.
            List<Community>("bgp_cluster_list", FilterType.Clist,
                a => a.ClusterList.IsDefault ? [] : [.. a.ClusterList.Select(Community.FromRaw)],
                (a, v) => a with { ClusterList = [.. ((ImmutableArray<Community>)v.Obj!).Select(c => c.Raw)] },
                a => a with { ClusterList = default }),
        };
        return list.ToDictionary(a => a.Name);
    }

    private static IpAddr Any(FilterState s) => s.Route.Prefix.IsV6 ? IpAddr.V6Any : IpAddr.V4Any;

    private static AttributeInfo Optional(
        string name, FilterType type, Func<PathAttributes, FilterValue?> get,
        Func<PathAttributes, FilterValue, PathAttributes> set, Func<PathAttributes, PathAttributes> unset) =>
        new(name, type,
            s => get(s.Attrs).HasValue,
            s => get(s.Attrs) ?? throw Undefined(name),
            (s, v) => s.Attrs = set(s.Attrs, v),
            s => s.Attrs = unset(s.Attrs));

    private static AttributeInfo List<T>(
        string name, FilterType type, Func<PathAttributes, ImmutableArray<T>> get,
        Func<PathAttributes, FilterValue, PathAttributes> set, Func<PathAttributes, PathAttributes> unset) =>
        new(name, type,
            s => true,
            s => FilterValue.FromObj(get(s.Attrs)),
            (s, v) => s.Attrs = set(s.Attrs, v),
            s => s.Attrs = unset(s.Attrs));
}
