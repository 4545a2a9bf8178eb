using System.Text.Json;

namespace Calico.Bgp.Lab;

/// <summary>A route read back from a namespace's kernel table (<c>ip -j route</c>).</summary>
public sealed record KernelRoute(string Dst, string Type, string? Gateway, string? Dev, string Protocol, int? Metric, IReadOnlyList<string> Flags, IReadOnlyList<string> MultipathGateways)
{
    public bool IsOnlink => Flags.Contains("onlink");

    /// <summary>The next hops of a multipath route with device and weight (<c>nexthop via G dev D weight W</c>).</summary>
    public IReadOnlyList<KernelRouteHop> Hops { get; init; } = [];

    /// <summary>The nexthop object the route names (<c>nhid N</c>), or null when it carries its own next hops.</summary>
    public long? NexthopId { get; init; }

    /// <summary>Parses <c>ip -j route</c> output.</summary>
    public static IReadOnlyList<KernelRoute> ParseJson(string json)
    {
        var list = new List<KernelRoute>();
        if (string.IsNullOrWhiteSpace(json))
            return list;
        using var doc = JsonDocument.Parse(json);
        foreach (var r in doc.RootElement.EnumerateArray())
        {
            var flags = new List<string>();
            if (r.TryGetProperty("flags", out var f))
                flags.AddRange(f.EnumerateArray().Select(x => x.GetString() ?? ""));
            var mp = new List<string>();
            var hops = new List<KernelRouteHop>();
            if (r.TryGetProperty("nexthops", out var nh))
            {
                foreach (var hop in nh.EnumerateArray())
                {
                    if (hop.TryGetProperty("gateway", out var g))
                        mp.Add(g.GetString() ?? "");
                    hops.Add(new KernelRouteHop(Str(hop, "gateway"), Str(hop, "dev"), hop.TryGetProperty("weight", out var w) ? w.GetInt32() : 1));
                    if (hop.TryGetProperty("flags", out var hf))
                        flags.AddRange(hf.EnumerateArray().Select(x => x.GetString() ?? ""));
                }
            }
            list.Add(new KernelRoute(
                Dst: Str(r, "dst") ?? "",
                Type: Str(r, "type") ?? "unicast",
                Gateway: Str(r, "gateway"),
                Dev: Str(r, "dev"),
                Protocol: Str(r, "protocol") ?? "",
                Metric: r.TryGetProperty("metric", out var m) ? m.GetInt32() : null,
                Flags: flags,
                MultipathGateways: mp)
            { Hops = hops, NexthopId = r.TryGetProperty("nhid", out var id) ? id.GetInt64() : null });
        }
        return list;
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? v.ValueKind == JsonValueKind.String ? v.GetString() : v.ToString() : null;

    public override string ToString() =>
        $"{(Type != "unicast" ? Type + " " : "")}{Dst}{(Gateway is null ? "" : " via " + Gateway)}{(Dev is null ? "" : " dev " + Dev)} proto {Protocol}{(Metric is null ? "" : " metric " + Metric)}{(Flags.Count > 0 ? " " + string.Join(' ', Flags) : "")}";
}

/// <summary>One next hop of a multipath route read back from the kernel.</summary>
public sealed record KernelRouteHop(string? Gateway, string? Dev, int Weight);

/// <summary>A nexthop object read back from a namespace (<c>ip -j nexthop</c>): a gateway on a device, or a group.</summary>
public sealed record KernelNexthop(long Id, string? Gateway, string? Dev, string Protocol, IReadOnlyList<string> Flags, IReadOnlyList<(long Id, int Weight)> Group)
{
    public bool IsGroup => Group.Count > 0;

    /// <summary>Parses <c>ip -j nexthop</c> output.</summary>
    public static IReadOnlyList<KernelNexthop> ParseJson(string json)
    {
        var list = new List<KernelNexthop>();
        if (string.IsNullOrWhiteSpace(json))
            return list;
        using var doc = JsonDocument.Parse(json);
        foreach (var n in doc.RootElement.EnumerateArray())
        {
            var group = new List<(long, int)>();
            if (n.TryGetProperty("group", out var g))
            {
                foreach (var m in g.EnumerateArray())
                    group.Add((m.GetProperty("id").GetInt64(), m.TryGetProperty("weight", out var w) ? w.GetInt32() : 1));
            }
            var flags = n.TryGetProperty("flags", out var f) ? f.EnumerateArray().Select(x => x.GetString() ?? "").ToList() : [];
            list.Add(new KernelNexthop(
                n.GetProperty("id").GetInt64(),
                n.TryGetProperty("gateway", out var gw) ? gw.GetString() : null,
                n.TryGetProperty("dev", out var d) ? d.GetString() : null,
                n.TryGetProperty("protocol", out var p) ? p.ValueKind == JsonValueKind.String ? p.GetString() ?? "" : p.ToString() : "",
                flags,
                group));
        }
        return list;
    }

    public override string ToString() =>
        IsGroup ? $"id {Id} group {string.Join('/', Group.Select(m => $"{m.Id},{m.Weight}"))} proto {Protocol}" : $"id {Id} via {Gateway} dev {Dev} proto {Protocol}{(Flags.Count > 0 ? " " + string.Join(' ', Flags) : "")}";
}
