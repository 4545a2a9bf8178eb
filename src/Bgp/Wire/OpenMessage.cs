using System.Buffers;
using System.Buffers.Binary;

namespace Calico.Bgp.Speaker.Wire;

/// <summary>An OPEN message, RFC 4271 §4.2, with capabilities (RFC 5492).</summary>
public sealed record OpenMessage(byte Version, ushort MyAs, ushort HoldTime, uint RouterId, CapabilitySet Capabilities)
{
    /// <summary>The sender's AS: the 4-octet capability when present (RFC 6793 §4.1), else My AS.</summary>
    public uint AutonomousSystem => Capabilities.FourOctetAs ?? MyAs;

    public static OpenMessage Create(uint localAs, int holdTime, uint routerId, CapabilitySet capabilities) =>
        new(4, localAs > ushort.MaxValue ? BgpConstants.AsTrans : (ushort)localAs, (ushort)holdTime, routerId, capabilities);

    //  0                   1                   2                   3
    //  +-+-+-+-+-+-+-+-+
    //  |    Version    |
    //  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    //  |     My Autonomous System      |
    //  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    //  |           Hold Time           |
    //  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    //  |                         BGP Identifier                        |
    //  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    //  | Opt Parm Len  |  Optional Parameters (Type, Length, Value)*   |
    //  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

    /// <summary>Parses the body; checks the version and the parameter layout (RFC 4271 §6.2).</summary>
    public static bool TryParse(ReadOnlySpan<byte> body, out OpenMessage? message, out BgpError? error)
    {
        message = null;
        error = null;
        if (body.Length < 10)
        {
            error = BgpError.Header(HeaderErrorSubcode.BadMessageLength);
            return false;
        }
        var version = body[0];
        if (version != 4)
        {
            // §6.2: the data is the largest version we support.
            error = BgpError.Open(OpenErrorSubcode.UnsupportedVersionNumber, new byte[] { 0, 4 });
            return false;
        }
        var myAs = BinaryPrimitives.ReadUInt16BigEndian(body[1..]);
        var hold = BinaryPrimitives.ReadUInt16BigEndian(body[3..]);
        var id = BinaryPrimitives.ReadUInt32BigEndian(body[5..]);
        int optLen = body[9];
        if (body.Length != 10 + optLen)
        {
            error = BgpError.Open(0);
            return false;
        }
        var caps = new CapabilitySet();
        var opts = body[10..];
        while (opts.Length > 0)
        {
            if (opts.Length < 2 || opts.Length < 2 + opts[1])
            {
                error = BgpError.Open(0);
                return false;
            }
            var type = opts[0];
            var value = opts.Slice(2, opts[1]);
            opts = opts[(2 + opts[1])..];
            if (type != 2)
            {
                // §6.2: only the Capabilities parameter (RFC 5492) is known.
                error = BgpError.Open(OpenErrorSubcode.UnsupportedOptionalParameter);
                return false;
            }
            if (!CapabilitySet.TryParse(value, caps, out caps, out error))
                return false;
        }
        message = new OpenMessage(version, myAs, hold, id, caps);
        return true;
    }

    public void Write(IBufferWriter<byte> writer)
    {
        var caps = new ArrayBufferWriter<byte>(64);
        Capabilities.Write(caps);
        var capBytes = caps.WrittenSpan;
        // One optional parameter holding every capability, as BIRD sends it.
        var optLen = capBytes.Length > 0 ? capBytes.Length + 2 : 0;
        var bodyLength = 10 + optLen;
        var span = writer.GetSpan(BgpConstants.HeaderLength + bodyLength);
        FrameReader.WriteHeader(span, MessageType.Open, bodyLength);
        var b = span[BgpConstants.HeaderLength..];
        b[0] = Version;
        BinaryPrimitives.WriteUInt16BigEndian(b[1..], MyAs);
        BinaryPrimitives.WriteUInt16BigEndian(b[3..], HoldTime);
        BinaryPrimitives.WriteUInt32BigEndian(b[5..], RouterId);
        b[9] = (byte)optLen;
        if (optLen > 0)
        {
            b[10] = 2;
            b[11] = (byte)capBytes.Length;
            capBytes.CopyTo(b[12..]);
        }
        writer.Advance(BgpConstants.HeaderLength + bodyLength);
    }
}
