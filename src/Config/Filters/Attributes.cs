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
/// and <see cref="Route"/>; the writable ones are read from and written to the run's
/// <see cref="AttributeDraft"/>. Static attributes (net, source, proto, ifname, dest, gw, from,
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
            new("source", FilterType.Source, Always, s => FilterValue.FromInt((long)s.Base.Source), null, null),
            new("proto", FilterType.String, Always, s => FilterValue.FromObj(s.Route.Protocol.Name), null, null),
            // BIRD 1.6 reads a route without interface as "".
            new("ifname", FilterType.String, Always, s => FilterValue.FromObj(s.Base.Interface ?? ""), null, null),
            new("dest", FilterType.Dest, Always, s => FilterValue.FromInt((long)s.Draft.Dest),
                Writing(static (d, v) => d.Dest = (RouteDest)v.Int), null),
            new("gw", FilterType.Ip, Always, s => FilterValue.FromIp(s.Draft.Gateway ?? Any(s)),
                Writing(static (d, v) => d.Gateway = v.Ip), null),
            new("from", FilterType.Ip, Always, s => FilterValue.FromIp(s.Draft.From ?? Any(s)),
                Writing(static (d, v) => d.From = v.Ip), null),
            new("preference", FilterType.Int, Always, s => FilterValue.FromInt(s.Preference),
                (s, v) =>
                {
                    if (v.Int is < 0 or > 0xFFFF)
                        throw new FilterRuntimeException("Setting preference value out of bounds");
                    s.Preference = (int)v.Int;
                }, null),
            Optional("krt_metric", FilterType.Int, static d => d.KrtMetric is { } m ? FilterValue.FromInt(m) : null,
                static (d, v) => d.KrtMetric = ToU32(v), static d => d.KrtMetric = null),
            Optional("krt_tunnel", FilterType.String, static d => d.KrtTunnel is { } t ? FilterValue.FromObj(t) : null,
                static (d, v) => d.KrtTunnel = v.String, static d => d.KrtTunnel = null),
            Optional("bgp_local_pref", FilterType.Int, static d => d.LocalPref is { } p ? FilterValue.FromInt(p) : null,
                static (d, v) => d.LocalPref = ToU32(v), static d => d.LocalPref = null),
            Optional("bgp_med", FilterType.Int, static d => d.Med is { } m ? FilterValue.FromInt(m) : null,
                static (d, v) => d.Med = ToU32(v), static d => d.Med = null),
            Optional("bgp_next_hop", FilterType.Ip, static d => d.NextHop is { } n ? FilterValue.FromIp(n) : null,
                static (d, v) => d.NextHop = v.Ip, static d => d.NextHop = null),
            Optional("bgp_origin", FilterType.Origin, static d => d.Origin is { } o ? FilterValue.FromInt((long)o) : null,
                static (d, v) => d.Origin = (BgpOrigin)v.Int, static d => d.Origin = null),
            Optional("bgp_path", FilterType.Path, static d => d.AsPath is { } p ? FilterValue.FromObj(p) : null,
                static (d, v) => d.AsPath = (AsPath)v.Obj!, static d => d.AsPath = null),
            Optional("bgp_originator_id", FilterType.Quad, static d => d.OriginatorId is { } o ? FilterValue.FromInt(o) : null,
                static (d, v) => d.OriginatorId = ToU32(v), static d => d.OriginatorId = null),
            List("bgp_community", FilterType.Clist, static d => FilterValue.FromClist(d.Communities),
                static (d, v) => d.Communities = v.Clist, static d => d.Communities = default),
            List("bgp_large_community", FilterType.LClist, static d => FilterValue.FromLClist(d.LargeCommunities),
                static (d, v) => d.LargeCommunities = v.LClist, static d => d.LargeCommunities = default),
            // BIRD 1.6 keeps the cluster list as an int set; it reads here as a clist of raw 32-bit values.
            List("bgp_cluster_list", FilterType.Clist,
                static d => FilterValue.FromClist(d.ClusterList.IsDefault ? [] : [.. d.ClusterList.Select(Community.FromRaw)]),
                static (d, v) => d.ClusterList = [.. v.Clist.Select(c => c.Raw)],
                static d => d.ClusterList = default),
        };
        return list.ToDictionary(a => a.Name);
    }

    private static IpAddr Any(FilterState s) => s.Route.Prefix.IsV6 ? IpAddr.V6Any : IpAddr.V4Any;

    /// <summary>A write to the run's draft; the result's attribute set is built from it once, at the end.</summary>
    private static Action<FilterState, FilterValue> Writing(Action<AttributeDraft, FilterValue> set) => (s, v) =>
    {
        set(s.Draft, v);
        s.Written = true;
    };

    private static Action<FilterState> Unsetting(Action<AttributeDraft> unset) => s =>
    {
        unset(s.Draft);
        s.Written = true;
    };

    private static AttributeInfo Optional(
        string name, FilterType type, Func<AttributeDraft, FilterValue?> get,
        Action<AttributeDraft, FilterValue> set, Action<AttributeDraft> unset) =>
        new(name, type,
            s => get(s.Draft).HasValue,
            s => get(s.Draft) ?? throw Undefined(name),
            Writing(set),
            Unsetting(unset));

    private static AttributeInfo List(
        string name, FilterType type, Func<AttributeDraft, FilterValue> get,
        Action<AttributeDraft, FilterValue> set, Action<AttributeDraft> unset) =>
        new(name, type,
            s => true,
            s => get(s.Draft),
            Writing(set),
            Unsetting(unset));
}
