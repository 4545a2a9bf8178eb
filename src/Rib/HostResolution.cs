using System.Collections.Immutable;

namespace Calico.Bgp.Rib;

/// <summary>
/// How a BGP next hop is reached, found through a table (BIRD's <c>hostentry</c>): what a route
/// through it forwards to, and the length of the table's prefix that decided it.
/// </summary>
/// <param name="Dest">Router or multipath when the next hop resolves; the covering route's own
/// destination when that is a blackhole, unreachable or prohibit route; unreachable when nothing covers it.</param>
/// <param name="Gateway">The immediate gateway the covering route names; null for a router destination
/// on a directly connected network, where the next hop itself is the gateway (its IPv6 link-local
/// companion, when the route carries one: RFC 2545 §3), filled in by <see cref="ApplyTo"/>.</param>
/// <param name="Interface">The interface the gateway is on, as the covering route names it.</param>
/// <param name="NextHops">The covering route's next hops when it is a multipath route.</param>
/// <param name="IgpMetric">The cost to the next hop (BIRD's <c>igp_metric</c>): 0 through a directly
/// connected network, <see cref="PathAttributes.IgpMetricUnknown"/> through any other route.</param>
/// <param name="MatchLength">The length of the covering prefix; -1 when none covers the next hop.</param>
public sealed record HostResolution(RouteDest Dest, IpAddr? Gateway, string? Interface, ImmutableArray<MultipathHop> NextHops, uint? IgpMetric, int MatchLength)
{
    /// <summary>Nothing in the table covers the next hop, or only a route that is itself resolved this way.</summary>
    public static readonly HostResolution None = new(RouteDest.Unreachable, null, null, default, null, -1);

    /// <summary>
    /// Whether a route through it can forward (BIRD 1.6's <c>rte_resolvable</c>): a gateway or next
    /// hops; a next hop covered by a blackhole is not resolvable (RFC 4271 §9.1.2.1).
    /// </summary>
    public bool Resolvable => Dest is RouteDest.Router or RouteDest.Device or RouteDest.Multipath;

    /// <summary>
    /// <paramref name="a"/> forwarding as this says (BIRD's <c>rta_apply_hostentry</c>): destination,
    /// gateway, interface, next hops and IGP metric replaced, the BGP attributes kept, and marked
    /// <see cref="PathAttributes.Recursive"/>. The same object when it already does.
    /// </summary>
    public PathAttributes ApplyTo(PathAttributes a)
    {
        var unresolved = !Resolvable;
        var gateway = Gateway ?? (Dest == RouteDest.Router ? a.NextHopLinkLocal ?? a.NextHop : null);
        if (a.Recursive && a.Dest == Dest && a.Gateway == gateway && a.Interface == Interface
            && a.NextHops == NextHops && a.IgpMetric == IgpMetric && a.NextHopUnresolved == unresolved)
            return a;
        return a with
        {
            Dest = Dest,
            Gateway = gateway,
            Interface = Interface,
            NextHops = NextHops,
            IgpMetric = IgpMetric,
            NextHopUnresolved = unresolved,
            Recursive = true,
        };
    }

    public bool Equals(HostResolution? other) =>
        other is not null && Dest == other.Dest && Gateway == other.Gateway && Interface == other.Interface
        && PathAttributes.SameList(NextHops, other.NextHops)
        && IgpMetric == other.IgpMetric && MatchLength == other.MatchLength;

    public override int GetHashCode() => HashCode.Combine(Dest, Gateway, Interface, NextHops.IsDefault ? -1 : NextHops.Length, IgpMetric, MatchLength);
}
