using System.Buffers;
using System.Buffers.Binary;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Speaker.Wire;

/// <summary>
/// Writes UPDATE messages that pack as many NLRI as fit (4096 bytes, or 65535 with RFC 8654)
/// behind one pre-encoded attribute block.
/// </summary>
public static class UpdateWriter
{
    private const int FixedOverhead = BgpConstants.HeaderLength + 4;
    // MP_REACH/MP_UNREACH header with extended length: flags, type, length (2).
    private const int MpAttributeHeader = 4;

    /// <summary>Withdraws <paramref name="nlri"/> (all of one family), in as many messages as needed.</summary>
    public static int WriteWithdrawals(IBufferWriter<byte> writer, in BgpCodec codec, ReadOnlySpan<Nlri> nlri, bool v6)
    {
        var addPath = codec.SendsPathId(v6);
        var max = codec.MaxMessageLength;
        var messages = 0;
        var i = 0;
        while (i < nlri.Length)
        {
            var span = writer.GetSpan(max);
            var o = v6 ? FixedOverhead + MpAttributeHeader + 3 : FixedOverhead - 2;
            var start = o;
            while (i < nlri.Length && o + NlriReader.EncodedLength(nlri[i].Prefix, addPath) <= max - (v6 ? 0 : 2))
                o += NlriReader.Write(span[o..], nlri[i++], addPath);
            var nlriLen = o - start;
            if (v6)
            {
                // RFC 4760 §4: withdrawn IPv6 routes travel in MP_UNREACH_NLRI.
                BinaryPrimitives.WriteUInt16BigEndian(span[19..], 0);
                var attrLen = MpAttributeHeader + 3 + nlriLen;
                BinaryPrimitives.WriteUInt16BigEndian(span[21..], (ushort)attrLen);
                WriteMpHeader(span[23..], AttributeType.MpUnreachNlri, 3 + nlriLen);
                BinaryPrimitives.WriteUInt16BigEndian(span[27..], (ushort)Afi.Ipv6);
                span[29] = (byte)Safi.Unicast;
            }
            else
            {
                BinaryPrimitives.WriteUInt16BigEndian(span[19..], (ushort)nlriLen);
                BinaryPrimitives.WriteUInt16BigEndian(span[o..], 0);
                o += 2;
            }
            FrameReader.WriteHeader(span, MessageType.Update, o - BgpConstants.HeaderLength);
            writer.Advance(o);
            messages++;
        }
        return messages;
    }

    /// <summary>
    /// Announces <paramref name="nlri"/> with the pre-encoded <paramref name="attributes"/>; for IPv6
    /// an MP_REACH_NLRI carrying <paramref name="nextHop"/> (and the link-local one, RFC 2545 §3) is added per message.
    /// </summary>
    public static int WriteAnnouncements(IBufferWriter<byte> writer, in BgpCodec codec, ReadOnlySpan<byte> attributes, ReadOnlySpan<Nlri> nlri, bool v6, IpAddr nextHop = default, IpAddr? linkLocal = null)
    {
        var addPath = codec.SendsPathId(v6);
        var max = codec.MaxMessageLength;
        var nhLen = v6 ? (linkLocal is null ? 16 : 32) : 0;
        var messages = 0;
        var i = 0;
        while (i < nlri.Length)
        {
            var span = writer.GetSpan(max);
            BinaryPrimitives.WriteUInt16BigEndian(span[19..], 0);
            var o = FixedOverhead;
            attributes.CopyTo(span[o..]);
            o += attributes.Length;
            var mpStart = o;
            if (v6)
            {
                o += MpAttributeHeader;
                BinaryPrimitives.WriteUInt16BigEndian(span[o..], (ushort)Afi.Ipv6);
                span[o + 2] = (byte)Safi.Unicast;
                span[o + 3] = (byte)nhLen;
                nextHop.WriteBytes(span[(o + 4)..]);
                if (linkLocal is { } ll)
                    ll.WriteBytes(span[(o + 20)..]);
                span[o + 4 + nhLen] = 0;
                o += 5 + nhLen;
            }
            var nlriStart = o;
            while (i < nlri.Length && o + NlriReader.EncodedLength(nlri[i].Prefix, addPath) <= max)
                o += NlriReader.Write(span[o..], nlri[i++], addPath);
            if (o == nlriStart)
                throw new InvalidOperationException("the path attributes leave no room for NLRI in one message");
            if (v6)
                WriteMpHeader(span[mpStart..], AttributeType.MpReachNlri, o - mpStart - MpAttributeHeader);
            var attrLen = v6 ? o - FixedOverhead : attributes.Length;
            BinaryPrimitives.WriteUInt16BigEndian(span[21..], (ushort)attrLen);
            FrameReader.WriteHeader(span, MessageType.Update, o - BgpConstants.HeaderLength);
            writer.Advance(o);
            messages++;
        }
        return messages;
    }

    /// <summary>End-of-RIB (RFC 4724 §2): an empty UPDATE for IPv4, an empty MP_UNREACH_NLRI otherwise.</summary>
    public static void WriteEndOfRib(IBufferWriter<byte> writer, bool v6)
    {
        if (!v6)
        {
            FrameReader.WriteMessage(writer, MessageType.Update, [0, 0, 0, 0]);
            return;
        }
        Span<byte> body = stackalloc byte[4 + 3 + 3];
        BinaryPrimitives.WriteUInt16BigEndian(body, 0);
        BinaryPrimitives.WriteUInt16BigEndian(body[2..], 6);
        body[4] = AttributeFlags.Optional;
        body[5] = (byte)AttributeType.MpUnreachNlri;
        body[6] = 3;
        BinaryPrimitives.WriteUInt16BigEndian(body[7..], (ushort)Afi.Ipv6);
        body[9] = (byte)Safi.Unicast;
        FrameReader.WriteMessage(writer, MessageType.Update, body);
    }

    private static void WriteMpHeader(Span<byte> d, AttributeType type, int length)
    {
        d[0] = AttributeFlags.Optional | AttributeFlags.ExtendedLength;
        d[1] = (byte)type;
        BinaryPrimitives.WriteUInt16BigEndian(d[2..], (ushort)length);
    }
}
