using System.Buffers;
using System.Buffers.Binary;

namespace Calico.Bgp.Speaker.Wire;

/// <summary>KEEPALIVE, RFC 4271 §4.4: a header alone.</summary>
public static class KeepaliveMessage
{
    public static void Write(IBufferWriter<byte> writer) => FrameReader.WriteMessage(writer, MessageType.Keepalive, []);
}

/// <summary>NOTIFICATION, RFC 4271 §4.5: Error code (1) | Error subcode (1) | Data (variable).</summary>
public static class NotificationMessage
{
    public static bool TryParse(ReadOnlySpan<byte> body, out BgpError error)
    {
        error = default;
        if (body.Length < 2)
            return false;
        error = new BgpError((NotificationCode)body[0], body[1], body[2..].ToArray());
        return true;
    }

    public static void Write(IBufferWriter<byte> writer, BgpError error)
    {
        var data = error.Data.Span;
        var span = writer.GetSpan(BgpConstants.HeaderLength + 2 + data.Length);
        FrameReader.WriteHeader(span, MessageType.Notification, 2 + data.Length);
        span[19] = (byte)error.Code;
        span[20] = error.Subcode;
        data.CopyTo(span[21..]);
        writer.Advance(BgpConstants.HeaderLength + 2 + data.Length);
    }
}

/// <summary>ROUTE-REFRESH, RFC 2918 §3: AFI (2) | Res./subtype (1, RFC 7313) | SAFI (1).</summary>
public readonly record struct RouteRefreshMessage(AfiSafi Family, byte Subtype)
{
    public static bool TryParse(ReadOnlySpan<byte> body, out RouteRefreshMessage message, out BgpError? error)
    {
        message = default;
        error = null;
        if (body.Length != 4)
        {
            // RFC 7313 §5: a bad length is ROUTE-REFRESH error 7/1 carrying the message.
            error = new BgpError(NotificationCode.RouteRefreshError, 1, body.ToArray());
            return false;
        }
        message = new RouteRefreshMessage(new AfiSafi((Afi)BinaryPrimitives.ReadUInt16BigEndian(body), (Safi)body[3]), body[2]);
        return true;
    }

    public void Write(IBufferWriter<byte> writer)
    {
        Span<byte> body = [(byte)((ushort)Family.Afi >> 8), (byte)Family.Afi, Subtype, (byte)Family.Safi];
        FrameReader.WriteMessage(writer, MessageType.RouteRefresh, body);
    }
}
