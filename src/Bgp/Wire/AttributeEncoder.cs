using System.Buffers;
using System.Buffers.Binary;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Speaker.Wire;

/// <summary>
/// Encodes a <see cref="PathAttributes"/> as the Path Attributes field (without MP_REACH, which
/// <see cref="UpdateWriter"/> adds around the NLRI it packs). The result is computed once per
/// attribute set and reused for every UPDATE carrying it.
/// </summary>
public static class AttributeEncoder
{
    /// <summary>Encodes in type-code order, as RFC 4271 §5 recommends.</summary>
    public static byte[] Encode(PathAttributes a, in BgpCodec codec, bool ipv4NextHop)
    {
        var w = new ArrayBufferWriter<byte>(128);
        Span<byte> tmp = stackalloc byte[8];
        if (a.Origin is { } origin)
            Write(w, AttributeFlags.Transitive, AttributeType.Origin, [(byte)origin]);
        var path = a.AsPath ?? AsPath.Empty;
        var asSize = codec.FourOctetAs ? 4 : 2;
        var buf = new byte[AsPathCodec.EncodedLength(path, asSize)];
        AsPathCodec.Write(buf, path, asSize);
        Write(w, AttributeFlags.Transitive, AttributeType.AsPath, buf);
        if (ipv4NextHop && a.NextHop is { IsV6: false } nh)
        {
            nh.WriteBytes(tmp);
            Write(w, AttributeFlags.Transitive, AttributeType.NextHop, tmp[..4]);
        }
        if (a.Med is { } med)
        {
            BinaryPrimitives.WriteUInt32BigEndian(tmp, med);
            Write(w, AttributeFlags.Optional, AttributeType.MultiExitDisc, tmp[..4]);
        }
        if (a.LocalPref is { } lp)
        {
            BinaryPrimitives.WriteUInt32BigEndian(tmp, lp);
            Write(w, AttributeFlags.Transitive, AttributeType.LocalPref, tmp[..4]);
        }
        if (a.AtomicAggregate)
            Write(w, AttributeFlags.Transitive, AttributeType.AtomicAggregate, []);
        if (a.AggregatorAs is { } aggAs && a.AggregatorAddress is { IsV6: false } aggAddr)
        {
            Span<byte> agg = stackalloc byte[8];
            if (codec.FourOctetAs)
            {
                BinaryPrimitives.WriteUInt32BigEndian(agg, aggAs);
                aggAddr.WriteBytes(agg[4..]);
                Write(w, AttributeFlags.Optional | AttributeFlags.Transitive, AttributeType.Aggregator, agg);
            }
            else
            {
                BinaryPrimitives.WriteUInt16BigEndian(agg, aggAs > ushort.MaxValue ? BgpConstants.AsTrans : (ushort)aggAs);
                aggAddr.WriteBytes(agg[2..]);
                Write(w, AttributeFlags.Optional | AttributeFlags.Transitive, AttributeType.Aggregator, agg[..6]);
            }
        }
        if (!a.Communities.IsDefaultOrEmpty)
        {
            var v = new byte[a.Communities.Length * 4];
            for (var i = 0; i < a.Communities.Length; i++)
                BinaryPrimitives.WriteUInt32BigEndian(v.AsSpan(i * 4), a.Communities[i].Raw);
            Write(w, AttributeFlags.Optional | AttributeFlags.Transitive, AttributeType.Communities, v);
        }
        if (a.OriginatorId is { } oid)
        {
            BinaryPrimitives.WriteUInt32BigEndian(tmp, oid);
            Write(w, AttributeFlags.Optional, AttributeType.OriginatorId, tmp[..4]);
        }
        if (!a.ClusterList.IsDefaultOrEmpty)
        {
            var v = new byte[a.ClusterList.Length * 4];
            for (var i = 0; i < a.ClusterList.Length; i++)
                BinaryPrimitives.WriteUInt32BigEndian(v.AsSpan(i * 4), a.ClusterList[i]);
            Write(w, AttributeFlags.Optional, AttributeType.ClusterList, v);
        }
        if (!a.ExtendedCommunities.IsDefaultOrEmpty)
        {
            var v = new byte[a.ExtendedCommunities.Length * 8];
            for (var i = 0; i < a.ExtendedCommunities.Length; i++)
                BinaryPrimitives.WriteUInt64BigEndian(v.AsSpan(i * 8), a.ExtendedCommunities[i]);
            Write(w, AttributeFlags.Optional | AttributeFlags.Transitive, AttributeType.ExtendedCommunities, v);
        }
        if (!codec.FourOctetAs && AsPathCodec.NeedsAs4(path))
        {
            // RFC 6793 §4.2.2: a NEW speaker sends AS4_PATH to an OLD one when the path has 4-octet ASes.
            var v = new byte[AsPathCodec.EncodedLength(path, 4)];
            AsPathCodec.Write(v, path, 4);
            Write(w, AttributeFlags.Optional | AttributeFlags.Transitive, AttributeType.As4Path, v);
        }
        if (!codec.FourOctetAs && a.AggregatorAs is > ushort.MaxValue && a.AggregatorAddress is { IsV6: false } agg4)
        {
            Span<byte> v = stackalloc byte[8];
            BinaryPrimitives.WriteUInt32BigEndian(v, a.AggregatorAs.Value);
            agg4.WriteBytes(v[4..]);
            Write(w, AttributeFlags.Optional | AttributeFlags.Transitive, AttributeType.As4Aggregator, v);
        }
        if (!a.LargeCommunities.IsDefaultOrEmpty)
        {
            var v = new byte[a.LargeCommunities.Length * 12];
            for (var i = 0; i < a.LargeCommunities.Length; i++)
            {
                var c = a.LargeCommunities[i];
                BinaryPrimitives.WriteUInt32BigEndian(v.AsSpan(i * 12), c.Global);
                BinaryPrimitives.WriteUInt32BigEndian(v.AsSpan(i * 12 + 4), c.Local1);
                BinaryPrimitives.WriteUInt32BigEndian(v.AsSpan(i * 12 + 8), c.Local2);
            }
            Write(w, AttributeFlags.Optional | AttributeFlags.Transitive, AttributeType.LargeCommunities, v);
        }
        if (!a.Unknown.IsDefaultOrEmpty)
        {
            foreach (var u in a.Unknown)
                Write(w, (byte)(u.Flags & ~AttributeFlags.ExtendedLength), (AttributeType)u.TypeCode, u.Value.Span);
        }
        return w.WrittenSpan.ToArray();
    }

    /// <summary>Writes one attribute, with the Extended Length bit when the value needs it.</summary>
    public static void Write(IBufferWriter<byte> w, byte flags, AttributeType type, ReadOnlySpan<byte> value)
    {
        var extended = value.Length > 255;
        var header = extended ? 4 : 3;
        var span = w.GetSpan(header + value.Length);
        span[0] = (byte)(flags | (extended ? AttributeFlags.ExtendedLength : 0));
        span[1] = (byte)type;
        if (extended)
            BinaryPrimitives.WriteUInt16BigEndian(span[2..], (ushort)value.Length);
        else
            span[2] = (byte)value.Length;
        value.CopyTo(span[header..]);
        w.Advance(header + value.Length);
    }
}
