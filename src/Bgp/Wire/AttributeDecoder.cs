using System.Buffers.Binary;
using System.Collections.Immutable;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Speaker.Wire;

/// <summary>
/// Turns the Path Attributes field into a <see cref="PathAttributes"/> and RFC 7606 actions.
/// One pass, no allocation for attributes that are absent; each check cites its RFC clause.
/// </summary>
public static class AttributeDecoder
{
    public static DecodedAttributes Decode(ReadOnlySpan<byte> field, in BgpCodec codec, in DecodeContext context, bool hasIpv4Nlri)
    {
        var d = new DecodedAttributes { Attributes = PathAttributes.Empty };
        Span<ulong> seen = stackalloc ulong[4];
        seen.Clear();
        BgpOrigin? origin = null;
        AsPath? asPath = null;
        AsPath? as4Path = null;
        IpAddr? nextHop = null;
        uint? med = null, localPref = null, aggAs = null, as4AggAs = null, originatorId = null;
        IpAddr? aggAddr = null, as4AggAddr = null;
        var atomic = false;
        ImmutableArray<Community> communities = default;
        ImmutableArray<ulong> ext = default;
        ImmutableArray<LargeCommunity> large = default;
        ImmutableArray<uint> clusters = default;
        List<RawAttribute>? unknown = null;

        var reader = new AttributeReader(field);
        while (reader.MoveNext())
        {
            var a = reader.Current;
            var bit = 1UL << (a.Type & 63);
            ref var word = ref seen[a.Type >> 6];
            if ((word & bit) != 0)
            {
                // RFC 7606 §3 g): duplicates of MP_REACH/MP_UNREACH reset the session; others are discarded.
                if (a.Type is (byte)AttributeType.MpReachNlri or (byte)AttributeType.MpUnreachNlri)
                    d.Raise(ErrorAction.SessionReset, BgpError.Update(UpdateErrorSubcode.MalformedAttributeList));
                else
                    d.Raise(ErrorAction.AttributeDiscard, BgpError.Update(UpdateErrorSubcode.MalformedAttributeList));
                continue;
            }
            word |= bit;
            var v = a.Value;
            if (AttributeTable.CanonicalFlags(a.Type) is { } canonical && (a.Flags & 0xC0) != canonical)
            {
                // RFC 7606 §3 c): wrong flags on a known attribute → treat-as-withdraw (attribute discard
                // where the attribute's own rule says so).
                d.Raise(AttributeTable.MalformedAction(a.Type), BgpError.Update(UpdateErrorSubcode.AttributeFlagsError, a.Whole.ToArray()));
                continue;
            }
            switch ((AttributeType)a.Type)
            {
                case AttributeType.Origin:
                    // RFC 7606 §7.1: bad length or value → treat-as-withdraw.
                    if (v.Length != 1 || v[0] > 2)
                        d.Raise(ErrorAction.TreatAsWithdraw, BgpError.Update(UpdateErrorSubcode.InvalidOriginAttribute, a.Whole.ToArray()));
                    else
                        origin = (BgpOrigin)v[0];
                    break;
                case AttributeType.AsPath:
                    // RFC 7606 §7.2: malformed AS_PATH → treat-as-withdraw.
                    asPath = AsPathCodec.TryRead(v, codec.FourOctetAs ? 4 : 2);
                    if (asPath is null)
                        d.Raise(ErrorAction.TreatAsWithdraw, BgpError.Update(UpdateErrorSubcode.MalformedAsPath));
                    break;
                case AttributeType.NextHop:
                    // RFC 7606 §7.3: length other than 4 → treat-as-withdraw; RFC 4271 §6.3 semantic checks.
                    if (v.Length != 4)
                        d.Raise(ErrorAction.TreatAsWithdraw, BgpError.Update(UpdateErrorSubcode.AttributeLengthError, a.Whole.ToArray()));
                    else
                    {
                        var nh = IpAddr.FromBytes(v);
                        if (nh.IsUnspecified || (nh.V4 >> 24) >= 224)
                            d.Raise(ErrorAction.TreatAsWithdraw, BgpError.Update(UpdateErrorSubcode.InvalidNextHopAttribute, a.Whole.ToArray()));
                        else
                            nextHop = nh;
                    }
                    break;
                case AttributeType.MultiExitDisc:
                    // RFC 7606 §7.4.
                    if (v.Length != 4)
                        d.Raise(ErrorAction.TreatAsWithdraw, BgpError.Update(UpdateErrorSubcode.AttributeLengthError, a.Whole.ToArray()));
                    else
                        med = BinaryPrimitives.ReadUInt32BigEndian(v);
                    break;
                case AttributeType.LocalPref:
                    // RFC 7606 §7.5; RFC 4271 §5.1.5: ignored when received from an external peer.
                    if (!context.IsInternal)
                        d.Raise(ErrorAction.AttributeDiscard, BgpError.Update(UpdateErrorSubcode.MalformedAttributeList));
                    else if (v.Length != 4)
                        d.Raise(ErrorAction.TreatAsWithdraw, BgpError.Update(UpdateErrorSubcode.AttributeLengthError, a.Whole.ToArray()));
                    else
                        localPref = BinaryPrimitives.ReadUInt32BigEndian(v);
                    break;
                case AttributeType.AtomicAggregate:
                    // RFC 7606 §7.6: bad length → attribute discard.
                    if (v.Length != 0)
                        d.Raise(ErrorAction.AttributeDiscard, BgpError.Update(UpdateErrorSubcode.AttributeLengthError, a.Whole.ToArray()));
                    else
                        atomic = true;
                    break;
                case AttributeType.Aggregator:
                    // RFC 7606 §7.7: 6 octets (8 with 4-octet AS), else attribute discard.
                    var asLen = codec.FourOctetAs ? 4 : 2;
                    if (v.Length != asLen + 4)
                        d.Raise(ErrorAction.AttributeDiscard, BgpError.Update(UpdateErrorSubcode.AttributeLengthError, a.Whole.ToArray()));
                    else
                    {
                        aggAs = asLen == 4 ? BinaryPrimitives.ReadUInt32BigEndian(v) : BinaryPrimitives.ReadUInt16BigEndian(v);
                        aggAddr = IpAddr.FromBytes(v.Slice(asLen, 4));
                    }
                    break;
                case AttributeType.As4Aggregator:
                    // RFC 6793 §6: a malformed AS4_AGGREGATOR is discarded.
                    if (v.Length != 8)
                        d.Raise(ErrorAction.AttributeDiscard, BgpError.Update(UpdateErrorSubcode.OptionalAttributeError, a.Whole.ToArray()));
                    else if (!codec.FourOctetAs)
                    {
                        as4AggAs = BinaryPrimitives.ReadUInt32BigEndian(v);
                        as4AggAddr = IpAddr.FromBytes(v.Slice(4, 4));
                    }
                    break;
                case AttributeType.Communities:
                    // RFC 7606 §7.8: length not a multiple of 4 → treat-as-withdraw.
                    if (v.Length % 4 != 0)
                        d.Raise(ErrorAction.TreatAsWithdraw, BgpError.Update(UpdateErrorSubcode.OptionalAttributeError, a.Whole.ToArray()));
                    else
                    {
                        var b = ImmutableArray.CreateBuilder<Community>(v.Length / 4);
                        for (var i = 0; i < v.Length; i += 4)
                            b.Add(Community.FromRaw(BinaryPrimitives.ReadUInt32BigEndian(v[i..])));
                        communities = b.MoveToImmutable();
                    }
                    break;
                case AttributeType.OriginatorId:
                    // RFC 7606 §7.9.
                    if (v.Length != 4)
                        d.Raise(ErrorAction.TreatAsWithdraw, BgpError.Update(UpdateErrorSubcode.AttributeLengthError, a.Whole.ToArray()));
                    else
                        originatorId = BinaryPrimitives.ReadUInt32BigEndian(v);
                    break;
                case AttributeType.ClusterList:
                    // RFC 7606 §7.10.
                    if (v.Length % 4 != 0)
                        d.Raise(ErrorAction.TreatAsWithdraw, BgpError.Update(UpdateErrorSubcode.AttributeLengthError, a.Whole.ToArray()));
                    else
                    {
                        var b = ImmutableArray.CreateBuilder<uint>(v.Length / 4);
                        for (var i = 0; i < v.Length; i += 4)
                            b.Add(BinaryPrimitives.ReadUInt32BigEndian(v[i..]));
                        clusters = b.MoveToImmutable();
                    }
                    break;
                case AttributeType.ExtendedCommunities:
                    // RFC 7606 §7.14.
                    if (v.Length % 8 != 0)
                        d.Raise(ErrorAction.TreatAsWithdraw, BgpError.Update(UpdateErrorSubcode.OptionalAttributeError, a.Whole.ToArray()));
                    else
                    {
                        var b = ImmutableArray.CreateBuilder<ulong>(v.Length / 8);
                        for (var i = 0; i < v.Length; i += 8)
                            b.Add(BinaryPrimitives.ReadUInt64BigEndian(v[i..]));
                        ext = b.MoveToImmutable();
                    }
                    break;
                case AttributeType.LargeCommunities:
                    // RFC 8092 §6: length not a non-zero multiple of 12 → treat-as-withdraw.
                    if (v.Length % 12 != 0 || v.Length == 0)
                        d.Raise(ErrorAction.TreatAsWithdraw, BgpError.Update(UpdateErrorSubcode.OptionalAttributeError, a.Whole.ToArray()));
                    else
                    {
                        var b = ImmutableArray.CreateBuilder<LargeCommunity>(v.Length / 12);
                        for (var i = 0; i < v.Length; i += 12)
                            b.Add(new LargeCommunity(BinaryPrimitives.ReadUInt32BigEndian(v[i..]), BinaryPrimitives.ReadUInt32BigEndian(v[(i + 4)..]), BinaryPrimitives.ReadUInt32BigEndian(v[(i + 8)..])));
                        large = b.MoveToImmutable();
                    }
                    break;
                case AttributeType.As4Path:
                    // RFC 6793 §6: a malformed AS4_PATH is discarded; ignored on 4-octet sessions.
                    if (!codec.FourOctetAs)
                    {
                        as4Path = AsPathCodec.TryRead(v, 4);
                        if (as4Path is null)
                            d.Raise(ErrorAction.AttributeDiscard, BgpError.Update(UpdateErrorSubcode.MalformedAsPath));
                    }
                    break;
                case AttributeType.MpReachNlri:
                    MpCodec.ReadReach(v, ref d);
                    break;
                case AttributeType.MpUnreachNlri:
                    MpCodec.ReadUnreach(v, ref d);
                    break;
                default:
                    if (!a.IsOptional)
                    {
                        // RFC 4271 §6.3: an unrecognized well-known attribute resets the session.
                        d.Raise(ErrorAction.SessionReset, BgpError.Update(UpdateErrorSubcode.UnrecognizedWellKnownAttribute, a.Whole.ToArray()));
                    }
                    else if (a.IsTransitive)
                    {
                        // RFC 4271 §5: unknown optional transitive attributes are passed on with Partial set.
                        (unknown ??= []).Add(new RawAttribute((byte)((a.Flags | AttributeFlags.Partial) & ~AttributeFlags.ExtendedLength), a.Type, v.ToArray()));
                    }
                    break;
            }
        }
        if (reader.Overrun)
        {
            // RFC 7606 §4: an attribute length that overruns the field → treat-as-withdraw.
            d.Raise(ErrorAction.TreatAsWithdraw, BgpError.Update(UpdateErrorSubcode.AttributeLengthError));
        }

        // RFC 7606 §3 d): a missing well-known mandatory attribute, when there is NLRI → treat-as-withdraw.
        var announces = hasIpv4Nlri || (d.HasMpReach && !d.MpReachNlri.IsEmpty);
        if (announces)
        {
            if (!Has(seen, AttributeType.Origin) || !Has(seen, AttributeType.AsPath) || (hasIpv4Nlri && !Has(seen, AttributeType.NextHop)))
            {
                byte missing = !Has(seen, AttributeType.Origin) ? (byte)1 : !Has(seen, AttributeType.AsPath) ? (byte)2 : (byte)3;
                d.Raise(ErrorAction.TreatAsWithdraw, BgpError.Update(UpdateErrorSubcode.MissingWellKnownAttribute, new[] { missing }));
            }
        }

        // RFC 6793 §4.2.3: merge AS4_PATH into AS_PATH on a 2-octet session.
        if (as4Path is not null && asPath is not null)
            asPath = AsPathCodec.Merge(asPath, as4Path);
        if (as4AggAs is not null && aggAs == BgpConstants.AsTrans)
        {
            aggAs = as4AggAs;
            aggAddr = as4AggAddr;
        }

        var gateway = nextHop;
        if (d.HasMpReach)
            gateway = d.MpNextHop;
        d.Attributes = new PathAttributes
        {
            Source = RouteSource.Bgp,
            Dest = RouteDest.Router,
            Gateway = gateway,
            From = context.NeighborAddress,
            Origin = origin,
            AsPath = asPath,
            NextHop = d.HasMpReach && !hasIpv4Nlri ? d.MpNextHop : nextHop,
            NextHopLinkLocal = d.HasMpReach ? d.MpLinkLocalNextHop : null,
            Med = med,
            LocalPref = localPref,
            AtomicAggregate = atomic,
            AggregatorAs = aggAs,
            AggregatorAddress = aggAddr,
            Communities = communities,
            ExtendedCommunities = ext,
            LargeCommunities = large,
            OriginatorId = originatorId,
            ClusterList = clusters,
            Unknown = unknown is null ? default : [.. unknown],
        };
        return d;
    }

    private static bool Has(ReadOnlySpan<ulong> seen, AttributeType t) => (seen[(byte)t >> 6] & (1UL << ((byte)t & 63))) != 0;
}
