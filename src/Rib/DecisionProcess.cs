namespace Calico.Bgp.Rib;

/// <summary>Why one route beat another (GoBGP's best-path reasons), for logs and tests.</summary>
public enum BestPathReason
{
    Equal,
    Preference,
    LocalPref,
    AsPathLength,
    Origin,
    Med,
    ExternalOverInternal,
    RouterId,
    ClusterListLength,
    NeighborAddress,
    ProtocolName,
    /// <summary>One route's next hop resolves and the other's does not (RFC 4271 §9.1.2.1).</summary>
    NextHopUnresolved,
    /// <summary>Lower IGP cost to the next hop, RFC 4271 §9.1.2.2 e).</summary>
    IgpMetric,
}

/// <summary>
/// The decision process in BIRD 1.6's order (<c>rte_better</c>, then <c>bgp_rte_better</c>):
/// validity (graceful-restart staleness, next-hop resolvability), preference across protocols, then
/// for two BGP routes RFC 4271 §9.1.2.2 with the RFC 4456 §9 additions. Each step is its own method
/// so it can be tested alone.
/// </summary>
public static partial class DecisionProcess
{
    /// <summary>LOCAL_PREF assumed for a route that lacks one (BIRD's <c>default bgp_local_pref</c>).</summary>
    public const uint DefaultLocalPref = 100;

    /// <summary>Negative when <paramref name="a"/> is better than <paramref name="b"/>.</summary>
    public static int Compare(Route a, Route b) => Compare(a, b, out _);

    public static int Compare(Route a, Route b, out BestPathReason reason)
    {
        int c;
        // Stale routes (graceful restart) lose to fresh ones, as BIRD's rte_better does.
        if (a.Stale != b.Stale)
        {
            reason = BestPathReason.Preference;
            return a.Stale ? 1 : -1;
        }
        // RFC 4271 §9.1.2.1: a route whose next hop cannot be reached is not a candidate. BIRD 1.6
        // checks this first in bgp_rte_better; here it goes before preference too, so such a route
        // loses to any route that can forward, from whatever protocol.
        if ((c = ByResolvable(a.Attributes, b.Attributes)) != 0)
        {
            reason = BestPathReason.NextHopUnresolved;
            return c;
        }
        if ((c = ByPreference(a, b)) != 0)
        {
            reason = BestPathReason.Preference;
            return c;
        }
        var pa = a.Protocol.BgpPeer;
        var pb = b.Protocol.BgpPeer;
        if (pa is { } peerA && pb is { } peerB)
        {
            var x = a.Attributes;
            var y = b.Attributes;
            if ((c = ByLocalPref(x, y)) != 0) { reason = BestPathReason.LocalPref; return c; }
            if ((c = ByAsPathLength(x, y)) != 0) { reason = BestPathReason.AsPathLength; return c; }
            if ((c = ByOrigin(x, y)) != 0) { reason = BestPathReason.Origin; return c; }
            if ((c = ByMed(x, y)) != 0) { reason = BestPathReason.Med; return c; }
            if ((c = ByExternal(peerA, peerB)) != 0) { reason = BestPathReason.ExternalOverInternal; return c; }
            if ((c = ByIgpMetric(x, y)) != 0) { reason = BestPathReason.IgpMetric; return c; }
            if ((c = ByRouterId(x, peerA, y, peerB)) != 0) { reason = BestPathReason.RouterId; return c; }
            if ((c = ByClusterListLength(x, y)) != 0) { reason = BestPathReason.ClusterListLength; return c; }
            if ((c = peerA.NeighborAddress.CompareTo(peerB.NeighborAddress)) != 0) { reason = BestPathReason.NeighborAddress; return c; }
        }
        c = string.CompareOrdinal(a.Protocol.Name, b.Protocol.Name);
        if (c == 0)
            c = a.PathId.CompareTo(b.PathId);
        reason = c == 0 ? BestPathReason.Equal : BestPathReason.ProtocolName;
        return c;
    }

    /// <summary>A resolvable next hop wins over an unresolvable one, RFC 4271 §9.1.2.1.</summary>
    public static int ByResolvable(PathAttributes a, PathAttributes b) =>
        a.NextHopUnresolved == b.NextHopUnresolved ? 0 : a.NextHopUnresolved ? 1 : -1;

    /// <summary>Lower IGP cost to the next hop wins, RFC 4271 §9.1.2.2 e); undefined counts as 0.</summary>
    public static int ByIgpMetric(PathAttributes a, PathAttributes b) =>
        (a.IgpMetric ?? 0).CompareTo(b.IgpMetric ?? 0);

    /// <summary>Higher preference wins (BIRD's <c>rte_better</c>).</summary>
    public static int ByPreference(Route a, Route b) => b.Preference.CompareTo(a.Preference);

    /// <summary>Higher LOCAL_PREF wins, RFC 4271 §9.1.1.</summary>
    public static int ByLocalPref(PathAttributes a, PathAttributes b) =>
        (b.LocalPref ?? DefaultLocalPref).CompareTo(a.LocalPref ?? DefaultLocalPref);

    /// <summary>Shorter AS_PATH wins, RFC 4271 §9.1.2.2 a).</summary>
    public static int ByAsPathLength(PathAttributes a, PathAttributes b) =>
        (a.AsPath?.Length ?? 0).CompareTo(b.AsPath?.Length ?? 0);

    /// <summary>Lower ORIGIN wins (IGP &lt; EGP &lt; INCOMPLETE), RFC 4271 §9.1.2.2 b).</summary>
    public static int ByOrigin(PathAttributes a, PathAttributes b) =>
        ((int)(a.Origin ?? BgpOrigin.Incomplete)).CompareTo((int)(b.Origin ?? BgpOrigin.Incomplete));

    /// <summary>
    /// Lower MED wins between routes from the same neighbouring AS, RFC 4271 §9.1.2.2 c);
    /// a missing MED counts as 0 (§5.1.4).
    /// </summary>
    public static int ByMed(PathAttributes a, PathAttributes b)
    {
        if ((a.AsPath?.FirstAs ?? 0) != (b.AsPath?.FirstAs ?? 0))
            return 0;
        return (a.Med ?? 0).CompareTo(b.Med ?? 0);
    }

    /// <summary>eBGP beats iBGP, RFC 4271 §9.1.2.2 d).</summary>
    public static int ByExternal(BgpPeerIdentity a, BgpPeerIdentity b) =>
        a.IsExternal == b.IsExternal ? 0 : a.IsExternal ? -1 : 1;

    /// <summary>
    /// Lower BGP identifier wins, RFC 4271 §9.1.2.2 f); a reflected route is identified by its
    /// ORIGINATOR_ID instead, RFC 4456 §9.
    /// </summary>
    public static int ByRouterId(PathAttributes a, BgpPeerIdentity pa, PathAttributes b, BgpPeerIdentity pb) =>
        (a.OriginatorId ?? pa.RouterId).CompareTo(b.OriginatorId ?? pb.RouterId);

    /// <summary>Shorter CLUSTER_LIST wins, RFC 4456 §9.</summary>
    public static int ByClusterListLength(PathAttributes a, PathAttributes b) =>
        (a.ClusterList.IsDefault ? 0 : a.ClusterList.Length).CompareTo(b.ClusterList.IsDefault ? 0 : b.ClusterList.Length);
}
