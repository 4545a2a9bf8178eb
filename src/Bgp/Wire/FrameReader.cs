using System.Buffers;
using System.Buffers.Binary;

namespace Calico.Bgp.Speaker.Wire;

/// <summary>One framed message: its type and body (the bytes after the 19-byte header).</summary>
public readonly record struct BgpFrame(MessageType Type, ReadOnlySequence<byte> Body);

/// <summary>
/// Cuts BGP messages out of a byte stream (read, frame, advance — as Kestrel's HTTP/2 reader).
/// Header checks follow RFC 4271 §6.1.
/// </summary>
public static class FrameReader
{
    // RFC 4271 §4.1:
    //  0                   1                   2                   3
    //  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    //  |                           Marker (16)                         |
    //  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    //  |          Length               |      Type     |
    //  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

    /// <summary>
    /// Tries to take one message from <paramref name="buffer"/>. Returns false when more bytes are
    /// needed (and <paramref name="error"/> is null) or when the header is bad (error set).
    /// On success <paramref name="buffer"/> is advanced past the message.
    /// </summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, int maxLength, out BgpFrame frame, out BgpError? error)
    {
        frame = default;
        error = null;
        if (buffer.Length < BgpConstants.HeaderLength)
            return false;
        Span<byte> header = stackalloc byte[BgpConstants.HeaderLength];
        buffer.Slice(0, BgpConstants.HeaderLength).CopyTo(header);
        // §6.1: the marker must be all ones, else "Connection Not Synchronized".
        if (header[..16].IndexOfAnyExcept((byte)0xFF) >= 0)
        {
            error = BgpError.Header(HeaderErrorSubcode.ConnectionNotSynchronized);
            return false;
        }
        var length = BinaryPrimitives.ReadUInt16BigEndian(header[16..]);
        var type = header[18];
        // §6.1: a bad length carries the erroneous Length field as data.
        if (length < BgpConstants.HeaderLength || length > maxLength || length < MinLength(type))
        {
            error = BgpError.Header(HeaderErrorSubcode.BadMessageLength, header.Slice(16, 2).ToArray());
            return false;
        }
        if (type is < 1 or > 5)
        {
            error = BgpError.Header(HeaderErrorSubcode.BadMessageType, new[] { type });
            return false;
        }
        if (type == (byte)MessageType.Keepalive && length != BgpConstants.HeaderLength)
        {
            error = BgpError.Header(HeaderErrorSubcode.BadMessageLength, header.Slice(16, 2).ToArray());
            return false;
        }
        if (buffer.Length < length)
            return false;
        frame = new BgpFrame((MessageType)type, buffer.Slice(BgpConstants.HeaderLength, length - BgpConstants.HeaderLength));
        buffer = buffer.Slice(length);
        return true;
    }

    /// <summary>Minimum total lengths per type (RFC 4271 §4.2–4.5, RFC 2918 §3).</summary>
    private static int MinLength(byte type) => type switch
    {
        1 => 29,
        2 => 23,
        3 => 21,
        5 => 23,
        _ => BgpConstants.HeaderLength,
    };

    /// <summary>Writes a header for a body of <paramref name="bodyLength"/> bytes.</summary>
    public static void WriteHeader(Span<byte> destination, MessageType type, int bodyLength)
    {
        destination[..16].Fill(0xFF);
        BinaryPrimitives.WriteUInt16BigEndian(destination[16..], (ushort)(bodyLength + BgpConstants.HeaderLength));
        destination[18] = (byte)type;
    }

    /// <summary>Writes a whole message with a body produced by <paramref name="body"/>.</summary>
    public static void WriteMessage(IBufferWriter<byte> writer, MessageType type, ReadOnlySpan<byte> body)
    {
        var span = writer.GetSpan(BgpConstants.HeaderLength + body.Length);
        WriteHeader(span, type, body.Length);
        body.CopyTo(span[BgpConstants.HeaderLength..]);
        writer.Advance(BgpConstants.HeaderLength + body.Length);
    }
}
