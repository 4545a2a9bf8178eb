using System.Collections.Immutable;

namespace Calico.Bgp.Rib;

/// <summary>
/// Everything about a route except its prefix and owner: BIRD's <c>rta</c> with its extended
/// attributes. Immutable; interned through <see cref="AttributeCache"/> so that routes sharing
/// attributes share one object and compare by reference. Change with <c>with { … }</c> and intern
/// the result.
/// </summary>
/// <remarks>
/// Nullable members are "undefined" in BIRD's filter sense; a default (non-initialised)
/// <see cref="ImmutableArray{T}"/> is an undefined list, an empty one is defined and empty.
/// </remarks>
public sealed record PathAttributes
{
    public static readonly PathAttributes Empty = new();

    /// <summary>
    /// <see cref="IgpMetric"/> of a next hop resolved through a route that carries no cost of its own
    /// (BIRD's <c>IGP_METRIC_UNKNOWN</c>, shown as <c>/?</c>): it loses to any known cost.
    /// </summary>
    public const uint IgpMetricUnknown = 0x80000000;

    public RouteSource Source { get; init; }
    public RouteDest Dest { get; init; }
    /// <summary>Gateway for <see cref="RouteDest.Router"/> routes (BIRD's <c>gw</c>).</summary>
    public IpAddr? Gateway { get; init; }
    /// <summary>Outgoing interface name (BIRD's <c>ifname</c>), when known.</summary>
    public string? Interface { get; init; }
    /// <summary>Address of the neighbour the route was received from (BIRD's <c>from</c>).</summary>
    public IpAddr? From { get; init; }
    /// <summary>
    /// The next hops of a <see cref="RouteDest.Multipath"/> route (BIRD's <c>nexthops</c>), in their
    /// configured order; default (undefined) for any other destination. Routes with the same hops
    /// share one array, so interning compares them cheaply.
    /// </summary>
    public ImmutableArray<MultipathHop> NextHops { get; init; }

    // BGP path attributes (RFC 4271 §5 and extensions).
    public BgpOrigin? Origin { get; init; }
    public AsPath? AsPath { get; init; }
    public IpAddr? NextHop { get; init; }
    /// <summary>IPv6 link-local next hop sent beside the global one (RFC 2545 §3).</summary>
    public IpAddr? NextHopLinkLocal { get; init; }
    public uint? Med { get; init; }
    public uint? LocalPref { get; init; }
    public bool AtomicAggregate { get; init; }
    public uint? AggregatorAs { get; init; }
    public IpAddr? AggregatorAddress { get; init; }
    public ImmutableArray<Community> Communities { get; init; }
    public ImmutableArray<ulong> ExtendedCommunities { get; init; }
    public ImmutableArray<LargeCommunity> LargeCommunities { get; init; }
    public uint? OriginatorId { get; init; }
    public ImmutableArray<uint> ClusterList { get; init; }
    /// <summary>Attributes passed through uninterpreted (unknown optional transitive ones).</summary>
    public ImmutableArray<RawAttribute> Unknown { get; init; }

    // Next-hop resolution (BIRD's rta hostentry and igp_metric), set by the importer; not sent on the wire.
    /// <summary>
    /// The next hop cannot be reached (RFC 4271 §9.1.2.1): such a route never wins over one that can
    /// (<see cref="DecisionProcess.ByResolvable"/>).
    /// </summary>
    public bool NextHopUnresolved { get; init; }
    /// <summary>
    /// Cost of the IGP path to the next hop (BIRD's <c>igp_metric</c>, RFC 4271 §9.1.2.2 e); lower wins.
    /// Undefined counts as 0, a next hop on a connected network, as Calico's are.
    /// </summary>
    public uint? IgpMetric { get; init; }
    /// <summary>
    /// The destination was resolved from the BGP next hop through a table (<c>gateway recursive</c>,
    /// BIRD's rta with a hostentry): such a route cannot resolve another one, and <c>show route</c>
    /// prints its IGP metric.
    /// </summary>
    public bool Recursive { get; init; }

    // Kernel attributes (BIRD's krt_*; krt_tunnel is Calico's fork).
    public uint? KrtMetric { get; init; }
    public string? KrtTunnel { get; init; }
    /// <summary>Kernel protocol number of a learned kernel route (BIRD's <c>krt_source</c>).</summary>
    public byte? KrtSource { get; init; }

    public bool Equals(PathAttributes? other)
    {
        if (ReferenceEquals(this, other))
            return true;
        return other is not null
            && Source == other.Source
            && Dest == other.Dest
            && Gateway == other.Gateway
            && Interface == other.Interface
            && From == other.From
            && SameList(NextHops, other.NextHops)
            && Origin == other.Origin
            && Equals(AsPath, other.AsPath)
            && NextHop == other.NextHop
            && NextHopLinkLocal == other.NextHopLinkLocal
            && Med == other.Med
            && LocalPref == other.LocalPref
            && AtomicAggregate == other.AtomicAggregate
            && AggregatorAs == other.AggregatorAs
            && AggregatorAddress == other.AggregatorAddress
            && SameList(Communities, other.Communities)
            && SameList(ExtendedCommunities, other.ExtendedCommunities)
            && SameList(LargeCommunities, other.LargeCommunities)
            && OriginatorId == other.OriginatorId
            && SameList(ClusterList, other.ClusterList)
            && SameList(Unknown, other.Unknown)
            && NextHopUnresolved == other.NextHopUnresolved
            && IgpMetric == other.IgpMetric
            && Recursive == other.Recursive
            && KrtMetric == other.KrtMetric
            && KrtTunnel == other.KrtTunnel
            && KrtSource == other.KrtSource;
    }

    /// <summary>Lists compared as the sets do: undefined equals only undefined, else element by element.</summary>
    internal static bool SameList<T>(ImmutableArray<T> a, ImmutableArray<T> b)
    {
        if (a.IsDefault || b.IsDefault)
            return a.IsDefault == b.IsDefault;
        return a.AsSpan().SequenceEqual(b.AsSpan());
    }

    private static void AddList<T>(ref HashCode h, ImmutableArray<T> list)
    {
        if (list.IsDefault)
        {
            h.Add(-1);
            return;
        }
        h.Add(list.Length);
        foreach (var x in list)
            h.Add(x);
    }

    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(Source);
        h.Add(Dest);
        h.Add(Gateway);
        h.Add(Interface);
        h.Add(From);
        AddList(ref h, NextHops);
        h.Add(Origin);
        h.Add(AsPath);
        h.Add(NextHop);
        h.Add(NextHopLinkLocal);
        h.Add(Med);
        h.Add(LocalPref);
        h.Add(AtomicAggregate);
        h.Add(AggregatorAs);
        h.Add(AggregatorAddress);
        AddList(ref h, Communities);
        AddList(ref h, ExtendedCommunities);
        AddList(ref h, LargeCommunities);
        h.Add(OriginatorId);
        AddList(ref h, ClusterList);
        AddList(ref h, Unknown);
        h.Add(NextHopUnresolved);
        h.Add(IgpMetric);
        h.Add(Recursive);
        h.Add(KrtMetric);
        h.Add(KrtTunnel);
        h.Add(KrtSource);
        return h.ToHashCode();
    }
}
