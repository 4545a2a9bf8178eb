namespace Calico.Bgp.Speaker.Wire;

/// <summary>
/// Per-type facts about known attributes (BIRD's attribute table): canonical Optional/Transitive
/// flags (RFC 4271 §5 and extensions) and the RFC 7606 action for a malformed instance.
/// </summary>
public static class AttributeTable
{
    private const byte WellKnown = AttributeFlags.Transitive;
    private const byte OptionalTransitive = AttributeFlags.Optional | AttributeFlags.Transitive;
    private const byte OptionalNonTransitive = AttributeFlags.Optional;

    /// <summary>The Optional and Transitive bits the attribute must carry, or null for unknown types.</summary>
    public static byte? CanonicalFlags(byte type) => (AttributeType)type switch
    {
        AttributeType.Origin or AttributeType.AsPath or AttributeType.NextHop or AttributeType.LocalPref or AttributeType.AtomicAggregate => WellKnown,
        AttributeType.MultiExitDisc or AttributeType.OriginatorId or AttributeType.ClusterList or AttributeType.MpReachNlri or AttributeType.MpUnreachNlri => OptionalNonTransitive,
        AttributeType.Aggregator or AttributeType.Communities or AttributeType.ExtendedCommunities or AttributeType.As4Path or AttributeType.As4Aggregator or AttributeType.LargeCommunities => OptionalTransitive,
        _ => null,
    };

    /// <summary>RFC 7606 §7: the action for a malformed attribute of this type.</summary>
    public static ErrorAction MalformedAction(byte type) => (AttributeType)type switch
    {
        AttributeType.AtomicAggregate or AttributeType.Aggregator or AttributeType.As4Path or AttributeType.As4Aggregator => ErrorAction.AttributeDiscard,
        AttributeType.MpReachNlri or AttributeType.MpUnreachNlri => ErrorAction.SessionReset,
        _ => ErrorAction.TreatAsWithdraw,
    };

    /// <summary>The name BIRD uses in filters and <c>show route all</c>.</summary>
    public static string Name(byte type) => (AttributeType)type switch
    {
        AttributeType.Origin => "bgp_origin",
        AttributeType.AsPath => "bgp_path",
        AttributeType.NextHop => "bgp_next_hop",
        AttributeType.MultiExitDisc => "bgp_med",
        AttributeType.LocalPref => "bgp_local_pref",
        AttributeType.AtomicAggregate => "bgp_atomic_aggr",
        AttributeType.Aggregator => "bgp_aggregator",
        AttributeType.Communities => "bgp_community",
        AttributeType.OriginatorId => "bgp_originator_id",
        AttributeType.ClusterList => "bgp_cluster_list",
        AttributeType.ExtendedCommunities => "bgp_ext_community",
        AttributeType.LargeCommunities => "bgp_large_community",
        _ => $"bgp_attr_{type}",
    };
}
