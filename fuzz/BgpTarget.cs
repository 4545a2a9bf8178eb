using System.Buffers;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Fuzz;

/// <summary>
/// The BGP receive path as <c>BgpProtocol</c> runs it: frames cut from a (segmented) byte stream,
/// then each message's parser; UPDATEs go through NLRI validation, the attribute decoder and
/// interning, as <c>ImportUpdate</c> does. A parser that returns an error is the documented
/// outcome; any exception is a finding.
/// </summary>
/// <remarks>
/// Input: byte 0 picks the negotiated codec (bit 0 4-octet AS, 1 extended messages, 2 ADD-PATH
/// receive IPv4, 3 ADD-PATH receive IPv6, 4 internal peer); byte 1 the segment size the stream
/// is cut into (0 = one segment), to exercise frames that straddle pipe segments; the rest is the
/// TCP stream from the peer.
/// </remarks>
internal static class BgpTarget
{
    private static readonly AttributeCache Cache = new();
    private static readonly IpAddr Neighbor = IpAddr.Parse("10.0.0.2");

    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length < 2)
            return;
        var mode = input[0];
        var codec = new BgpCodec(
            (mode & 1) != 0,
            (mode & 2) != 0,
            (mode & 4) != 0 ? AddPathMode.Rx : AddPathMode.None,
            (mode & 8) != 0 ? AddPathMode.Rx : AddPathMode.None);
        var context = new DecodeContext((mode & 16) != 0, Neighbor);
        var buffer = Segments.Cut(input[2..], input[1]);
        BgpError? error;
        while (FrameReader.TryRead(ref buffer, codec.MaxMessageLength, out var frame, out error))
            Handle(frame, codec, context);
        _ = error?.Description;
    }

    private static void Handle(in BgpFrame frame, in BgpCodec codec, in DecodeContext context)
    {
        var body = frame.Body.ToArray();
        switch (frame.Type)
        {
            case MessageType.Open:
                if (OpenMessage.TryParse(body, out var open, out var openError))
                {
                    _ = open!.AutonomousSystem;
                    _ = open.Capabilities.Describe();
                    _ = BgpCodec.Negotiate(new CapabilitySet { FourOctetAs = 65000, ExtendedMessage = true }, open.Capabilities);
                    // Our encoder must take back what we accepted.
                    open.Write(new ArrayBufferWriter<byte>());
                }
                else
                    _ = openError!.Value.Description;
                break;
            case MessageType.Update:
                Update(body, codec, context);
                break;
            case MessageType.Notification:
                if (NotificationMessage.TryParse(body, out var n))
                {
                    _ = n.Description;
                    NotificationMessage.Write(new ArrayBufferWriter<byte>(), n);
                }
                break;
            case MessageType.RouteRefresh:
                if (RouteRefreshMessage.TryParse(body, out var rr, out var rrError))
                {
                    _ = rr.Family.ToString();
                    rr.Write(new ArrayBufferWriter<byte>());
                }
                else
                    _ = rrError!.Value.Description;
                break;
        }
    }

    /// <summary>Mirrors <c>BgpProtocol.ImportUpdate</c> and <c>Apply</c>, without the table.</summary>
    private static void Update(ReadOnlySpan<byte> body, in BgpCodec codec, in DecodeContext context)
    {
        if (!UpdateMessage.TryParse(body, out var update, out _))
            return;
        if (!NlriReader.Validate(update.Withdrawn, false, codec.ReceivesPathId(false)) ||
            !NlriReader.Validate(update.Nlri, false, codec.ReceivesPathId(false)))
            return;
        var d = AttributeDecoder.Decode(update.Attributes, codec, context, !update.Nlri.IsEmpty);
        _ = d.Error?.Description;
        if (d.Action == ErrorAction.SessionReset)
            return;
        var v6Reach = d.MpReachFamily.Afi == Afi.Ipv6;
        var v6Unreach = d.MpUnreachFamily.Afi == Afi.Ipv6;
        if (d.HasMpReach && !NlriReader.Validate(d.MpReachNlri, v6Reach, codec.ReceivesPathId(v6Reach)))
            return;
        if (d.HasMpUnreach && !NlriReader.Validate(d.MpUnreachNlri, v6Unreach, codec.ReceivesPathId(v6Unreach)))
            return;
        var count = 0;
        foreach (var w in new NlriReader(update.Withdrawn, false, codec.ReceivesPathId(false)))
            count += w.Prefix.Length;
        if (d.HasMpUnreach)
        {
            foreach (var w in new NlriReader(d.MpUnreachNlri, v6Unreach, codec.ReceivesPathId(v6Unreach)))
                count += w.Prefix.Length;
        }
        foreach (var n in new NlriReader(update.Nlri, false, codec.ReceivesPathId(false)))
            count += n.Prefix.Length;
        if (d.HasMpReach)
        {
            foreach (var n in new NlriReader(d.MpReachNlri, v6Reach, codec.ReceivesPathId(v6Reach)))
                count += n.Prefix.Length;
        }
        if (d.Action != ErrorAction.TreatAsWithdraw)
        {
            var interned = Cache.Intern(d.Attributes);
            _ = interned.AsPath?.ToString();
            _ = interned.GetHashCode() + count;
            // Weak entries: sweep now and then so a long run does not grow the cache.
            if (Cache.Count > 10_000)
                Cache.Sweep();
        }
    }
}

/// <summary>Cuts a byte run into a multi-segment sequence, as a pipe hands out data read in pieces.</summary>
internal static class Segments
{
    public static ReadOnlySequence<byte> Cut(ReadOnlySpan<byte> data, int size)
    {
        if (size == 0 || data.Length <= size)
            return new ReadOnlySequence<byte>(data.ToArray());
        var first = new Segment(data[..size].ToArray(), 0);
        var last = first;
        for (var o = size; o < data.Length; o += size)
            last = last.Append(data[o..Math.Min(o + size, data.Length)].ToArray());
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
