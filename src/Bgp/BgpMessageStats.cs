using System.Buffers.Binary;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Speaker;

/// <summary>
/// Message counters of one BGP protocol, kept across its sessions: messages and bytes each way by
/// message type (RFC 4271 §4.1, RFC 2918 §3), NOTIFICATIONs each way by code and subcode
/// (RFC 4271 §4.5), and transitions to Established. Plain arrays of longs updated with
/// <see cref="Interlocked"/>, so counting allocates nothing and readers never lock. The
/// code/subcode space is bounded: a code or subcode outside the table counts as 0/0 (code 0 is
/// reserved, so it never collides with a real pair), which keeps metric labels finite whatever a
/// peer sends.
/// </summary>
public sealed class BgpMessageStats
{
    /// <summary>Message types 1..5; slot 0 is unused.</summary>
    private const int TypeSlots = (int)MessageType.RouteRefresh + 1;
    /// <summary>Codes 1..8 (RFC 4271 §4.5, RFC 7313 §5, RFC 9687 §5); 0 holds what is out of range.</summary>
    private const int CodeSlots = (int)NotificationCode.SendHoldTimerExpired + 1;
    /// <summary>The largest subcode in use is 11 (Cease, RFC 9384 §4 BFD Down); 16 leaves room.</summary>
    private const int SubcodeSlots = 16;

    private readonly long[] _messagesIn = new long[TypeSlots];
    private readonly long[] _messagesOut = new long[TypeSlots];
    private readonly long[] _bytesIn = new long[TypeSlots];
    private readonly long[] _bytesOut = new long[TypeSlots];
    // 1 KiB each, made at the first NOTIFICATION: most sessions never see one, and a reflector has
    // a thousand sessions.
    private long[]? _notificationsIn;
    private long[]? _notificationsOut;
    private long _establishedTransitions;

    /// <summary>The message types counted, in type order.</summary>
    public static IReadOnlyList<MessageType> Types { get; } = [MessageType.Open, MessageType.Update, MessageType.Notification, MessageType.Keepalive, MessageType.RouteRefresh];

    public long EstablishedTransitions => Interlocked.Read(ref _establishedTransitions);

    public long MessagesReceived(MessageType type) => Read(_messagesIn, type);
    public long MessagesSent(MessageType type) => Read(_messagesOut, type);
    public long BytesReceived(MessageType type) => Read(_bytesIn, type);
    public long BytesSent(MessageType type) => Read(_bytesOut, type);

    public void CountEstablished() => Interlocked.Increment(ref _establishedTransitions);

    /// <summary>One message received, <paramref name="length"/> bytes with its header.</summary>
    public void CountReceived(MessageType type, int length) => Count(_messagesIn, _bytesIn, type, length);

    /// <summary>One message sent, <paramref name="length"/> bytes with its header.</summary>
    public void CountSent(MessageType type, int length) => Count(_messagesOut, _bytesOut, type, length);

    /// <summary>
    /// Counts the messages in already framed bytes (an update group's UPDATEs and End-of-RIB), by
    /// walking their headers: marker (16) | length (2) | type (1), RFC 4271 §4.1.
    /// </summary>
    public void CountSent(ReadOnlySpan<byte> messages)
    {
        while (messages.Length >= BgpConstants.HeaderLength)
        {
            var length = BinaryPrimitives.ReadUInt16BigEndian(messages[16..]);
            if (length < BgpConstants.HeaderLength || length > messages.Length)
                return;
            CountSent((MessageType)messages[18], length);
            messages = messages[length..];
        }
    }

    public void CountNotificationReceived(byte code, byte subcode) => Interlocked.Increment(ref Table(ref _notificationsIn)[Slot(code, subcode)]);
    public void CountNotificationSent(byte code, byte subcode) => Interlocked.Increment(ref Table(ref _notificationsOut)[Slot(code, subcode)]);

    /// <summary>NOTIFICATIONs received, one entry per code/subcode seen (out-of-range ones as 0/0).</summary>
    public IReadOnlyList<NotificationCount> NotificationsReceived() => Seen(Volatile.Read(ref _notificationsIn));

    /// <summary>NOTIFICATIONs sent, one entry per code/subcode sent.</summary>
    public IReadOnlyList<NotificationCount> NotificationsSent() => Seen(Volatile.Read(ref _notificationsOut));

    private static long[] Table(ref long[]? table) =>
        Volatile.Read(ref table) ?? Interlocked.CompareExchange(ref table, new long[CodeSlots * SubcodeSlots], null) ?? table!;

    private static int Slot(byte code, byte subcode) => code < CodeSlots && subcode < SubcodeSlots ? code * SubcodeSlots + subcode : 0;

    private static void Count(long[] messages, long[] bytes, MessageType type, int length)
    {
        var i = (int)type;
        if (i <= 0 || i >= TypeSlots)
            return;
        Interlocked.Increment(ref messages[i]);
        Interlocked.Add(ref bytes[i], length);
    }

    private static long Read(long[] counters, MessageType type)
    {
        var i = (int)type;
        return i > 0 && i < TypeSlots ? Interlocked.Read(ref counters[i]) : 0;
    }

    private static List<NotificationCount> Seen(long[]? counters)
    {
        var list = new List<NotificationCount>();
        if (counters is null)
            return list;
        for (var i = 0; i < counters.Length; i++)
        {
            var n = Interlocked.Read(ref counters[i]);
            if (n > 0)
                list.Add(new NotificationCount((byte)(i / SubcodeSlots), (byte)(i % SubcodeSlots), n));
        }
        return list;
    }
}

/// <summary>How many NOTIFICATIONs of one code/subcode pair.</summary>
public readonly record struct NotificationCount(byte Code, byte Subcode, long Count);
