using System.Runtime.CompilerServices;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Speaker.Export;

/// <summary>
/// What decides the bytes of an UPDATE to a peer: peers with equal keys get identical UPDATEs
/// and share an <see cref="UpdateGroup"/>. The table and the export filter compare by instance
/// (a reload that keeps a filter keeps its instance); the codec keeps only what changes sending.
/// </summary>
public sealed class UpdateGroupKey : IEquatable<UpdateGroupKey>
{
    private UpdateGroupKey(RoutingTable table, RouteFilter filter, BgpCodec codec, BgpProtocolOptions options, IpAddr? self)
    {
        Table = table;
        Filter = filter;
        Codec = codec;
        Options = options;
        Self = self;
    }

    public RoutingTable Table { get; }
    public RouteFilter Filter { get; }
    /// <summary>The negotiated codec, reduced to its send side (receive ADD-PATH does not change what we send).</summary>
    public BgpCodec Codec { get; }
    /// <summary>The options of the peer that created the group: every field the export rules read is equal in all members.</summary>
    public BgpProtocolOptions Options { get; }
    /// <summary>Our next hop for "next hop self": the configured source address or the session's local address.</summary>
    public IpAddr? Self { get; }

    public static UpdateGroupKey For(RoutingTable table, BgpProtocolOptions o, in BgpCodec codec, IpAddr? localAddress) =>
        new(table, o.ExportFilter, codec with { AddPathIpv4 = codec.AddPathIpv4 & AddPathMode.Tx, AddPathIpv6 = codec.AddPathIpv6 & AddPathMode.Tx }, o, o.SourceAddress ?? localAddress);

    public bool Equals(UpdateGroupKey? other) =>
        other is not null
        && ReferenceEquals(Table, other.Table)
        && ReferenceEquals(Filter, other.Filter)
        && Codec == other.Codec
        && Self == other.Self
        && Options.IsInternal == other.Options.IsInternal
        && Options.LocalAs == other.Options.LocalAs
        && Options.Ipv4 == other.Options.Ipv4
        && Options.Ipv6 == other.Options.Ipv6
        && Options.NextHopSelf == other.Options.NextHopSelf
        && Options.NextHopKeep == other.Options.NextHopKeep
        && Options.RrClient == other.Options.RrClient
        && Options.ClusterId == other.Options.ClusterId;

    public override bool Equals(object? obj) => Equals(obj as UpdateGroupKey);

    public override int GetHashCode() => HashCode.Combine(
        RuntimeHelpers.GetHashCode(Table),
        RuntimeHelpers.GetHashCode(Filter),
        Codec,
        Self,
        HashCode.Combine(Options.IsInternal, Options.LocalAs, Options.Ipv4, Options.Ipv6, Options.NextHopSelf, Options.NextHopKeep, Options.RrClient, Options.ClusterId));
}
