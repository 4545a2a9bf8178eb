using System.Buffers;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Speaker.Tests;

public class CodecTests
{
    private static byte[] Hex(string s) => Convert.FromHexString(s.Replace(" ", ""));

    private static ReadOnlySequence<byte> Seq(byte[] b) => new(b);

    [Fact]
    public void Keepalive_is_a_bare_header()
    {
        var w = new ArrayBufferWriter<byte>();
        KeepaliveMessage.Write(w);
        Assert.Equal(Hex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF 0013 04"), w.WrittenSpan.ToArray());
    }

    [Fact]
    public void Frame_reader_waits_for_a_whole_message()
    {
        var buf = Seq(Hex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF 0017 02 0000"));
        Assert.False(FrameReader.TryRead(ref buf, 4096, out _, out var error));
        Assert.Null(error);
    }

    [Fact]
    public void Bad_marker_is_connection_not_synchronized()
    {
        var buf = Seq(Hex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00 0013 04"));
        Assert.False(FrameReader.TryRead(ref buf, 4096, out _, out var error));
        Assert.Equal(NotificationCode.MessageHeaderError, error!.Value.Code);
        Assert.Equal((byte)HeaderErrorSubcode.ConnectionNotSynchronized, error.Value.Subcode);
    }

    [Theory]
    [InlineData("0012", 4)]
    [InlineData("1001", 2)]
    [InlineData("0014", 4)]
    public void Bad_length_carries_the_length_field(string length, byte type)
    {
        var buf = Seq(Hex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF" + length + type.ToString("X2") + "00"));
        Assert.False(FrameReader.TryRead(ref buf, 4096, out _, out var error));
        Assert.Equal((byte)HeaderErrorSubcode.BadMessageLength, error!.Value.Subcode);
        Assert.Equal(Hex(length), error.Value.Data.ToArray());
        Assert.Equal("Bad message length", error.Value.Description);
    }

    [Fact]
    public void Bad_type_carries_the_type()
    {
        var buf = Seq(Hex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF 0013 09"));
        Assert.False(FrameReader.TryRead(ref buf, 4096, out _, out var error));
        Assert.Equal((byte)HeaderErrorSubcode.BadMessageType, error!.Value.Subcode);
        Assert.Equal(new byte[] { 9 }, error.Value.Data.ToArray());
    }

    [Fact]
    public void Open_round_trips_with_capabilities()
    {
        var caps = new CapabilitySet
        {
            Families = [AfiSafi.Ipv4Unicast, AfiSafi.Ipv6Unicast],
            RouteRefresh = true,
            FourOctetAs = 4200000000,
            GracefulRestart = true,
            GracefulRestartTime = 120,
            GracefulRestartFamilies = [AfiSafi.Ipv4Unicast],
            ExtendedMessage = true,
            AddPath = new Dictionary<AfiSafi, AddPathMode> { [AfiSafi.Ipv4Unicast] = AddPathMode.Both },
        };
        var open = OpenMessage.Create(4200000000, 240, 0x0A000001, caps);
        Assert.Equal(BgpConstants.AsTrans, open.MyAs);
        var w = new ArrayBufferWriter<byte>();
        open.Write(w);
        var buf = Seq(w.WrittenSpan.ToArray());
        Assert.True(FrameReader.TryRead(ref buf, 4096, out var frame, out _));
        Assert.Equal(MessageType.Open, frame.Type);
        Assert.True(OpenMessage.TryParse(frame.Body.ToArray(), out var back, out _));
        Assert.Equal(4200000000u, back!.AutonomousSystem);
        Assert.Equal(240, back.HoldTime);
        Assert.Equal(caps.Families, back.Capabilities.Families);
        Assert.True(back.Capabilities.GracefulRestart);
        Assert.Equal(120, back.Capabilities.GracefulRestartTime);
        Assert.Equal(AddPathMode.Both, back.Capabilities.AddPathFor(AfiSafi.Ipv4Unicast));
        Assert.True(back.Capabilities.ExtendedMessage);
        Assert.Equal("refresh restart-able AS4 add-path-rx add-path-tx ext-messages", back.Capabilities.Describe());
    }

    [Fact]
    public void Open_from_bird2_parses_and_ignores_unknown_capabilities()
    {
        // OPEN body as BIRD 2 sends it for iBGP AS 64512, id 10.0.0.2, with capability 73 (hostname) unknown to us.
        var body = Hex("04 FC00 00F0 0A000002 1A 02 18 010400010001 0200 4600 4104 0000FC00 4906 04 62697264 32 40 02 0078");
        body[9] = (byte)(body.Length - 10);
        body[11] = (byte)(body.Length - 12);
        Assert.True(OpenMessage.TryParse(body, out var open, out var error), error?.Description);
        Assert.Equal(64512u, open!.AutonomousSystem);
        Assert.True(open.Capabilities.RouteRefresh);
        Assert.True(open.Capabilities.EnhancedRouteRefresh);
        Assert.Equal([AfiSafi.Ipv4Unicast], open.Capabilities.Families);
    }

    [Fact]
    public void Capabilities_spread_over_several_optional_parameters_add_up()
    {
        // As some speakers send them (RFC 5492 §4 allows either): one capability per optional
        // parameter, families and ADD-PATH modes split across two of each, then AS4 and route refresh.
        var body = Hex("04 FC00 00F0 0A000002 00"
            + " 02 06 0104 00010001"
            + " 02 06 4504 00010103"
            + " 02 06 0104 00020001"
            + " 02 06 4504 00020101"
            + " 02 06 4104 0000FC00"
            + " 02 02 0200");
        body[9] = (byte)(body.Length - 10);
        Assert.True(OpenMessage.TryParse(body, out var open, out var error), error?.Description);
        var caps = open!.Capabilities;
        Assert.Equal([AfiSafi.Ipv4Unicast, AfiSafi.Ipv6Unicast], caps.Families);
        Assert.Equal(AddPathMode.Both, caps.AddPathFor(AfiSafi.Ipv4Unicast));
        Assert.Equal(AddPathMode.Rx, caps.AddPathFor(AfiSafi.Ipv6Unicast));
        Assert.Equal(64512u, caps.FourOctetAs);
        Assert.True(caps.RouteRefresh);
        Assert.False(caps.GracefulRestart);
        Assert.Empty(caps.GracefulRestartFamilies);

        // A parameter adds to the set it is given and leaves that set as it was.
        var first = new CapabilitySet { Families = [AfiSafi.Ipv4Unicast], RouteRefresh = true };
        Assert.True(CapabilitySet.TryParse(Hex("0104 00020001 4504 00010101"), first, out var more, out _));
        Assert.Equal([AfiSafi.Ipv4Unicast], first.Families);
        Assert.Empty(first.AddPath);
        Assert.Equal([AfiSafi.Ipv4Unicast, AfiSafi.Ipv6Unicast], more.Families);
        Assert.True(more.RouteRefresh);
        Assert.Equal(AddPathMode.Rx, more.AddPathFor(AfiSafi.Ipv4Unicast));
    }

    [Fact]
    public void Open_with_version_3_is_rejected()
    {
        Assert.False(OpenMessage.TryParse(Hex("03 FC00 00F0 0A000002 00"), out _, out var error));
        Assert.Equal((byte)OpenErrorSubcode.UnsupportedVersionNumber, error!.Value.Subcode);
    }

    [Fact]
    public void Notification_round_trips_with_bird_wording()
    {
        var w = new ArrayBufferWriter<byte>();
        NotificationMessage.Write(w, BgpError.HoldTimerExpired);
        Assert.Equal(Hex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF 0015 03 04 00"), w.WrittenSpan.ToArray());
        Assert.True(NotificationMessage.TryParse(Hex("0602"), out var e));
        Assert.Equal("Administrative shutdown", e.Description);
    }

    [Fact]
    public void Route_refresh_round_trips()
    {
        var w = new ArrayBufferWriter<byte>();
        new RouteRefreshMessage(AfiSafi.Ipv4Unicast, 0).Write(w);
        Assert.Equal(Hex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF 0017 05 0001 00 01"), w.WrittenSpan.ToArray());
    }

    [Fact]
    public void Nlri_reader_reads_prefixes_and_path_ids()
    {
        var list = new List<Nlri>();
        foreach (var n in new NlriReader(Hex("18 0A3201 10 0A3C 00"), false, false))
            list.Add(n);
        Assert.Equal([new Nlri(Prefix.Parse("10.50.1.0/24")), new Nlri(Prefix.Parse("10.60.0.0/16")), new Nlri(Prefix.Parse("0.0.0.0/0"))], list);
        var r = new NlriReader(Hex("00000007 18 0A3201"), false, true);
        Assert.True(r.MoveNext());
        Assert.Equal(7u, r.Current.PathId);
        Assert.False(NlriReader.Validate(Hex("21 0A320101 00"), false, false));
        Assert.False(NlriReader.Validate(Hex("18 0A32"), false, false));
    }

    [Fact]
    public void Nlri_reader_clears_host_bits_and_reads_every_length_of_both_families()
    {
        // Host bits inside the bytes sent are cleared, as for any prefix we hold (/25 with .129, /31).
        var list = new List<Nlri>();
        foreach (var n in new NlriReader(Hex("19 0A320181 1F C0A80107 20 0A000001 08 0A"), false, false))
            list.Add(n);
        Assert.Equal([new Nlri(Prefix.Parse("10.50.1.128/25")), new Nlri(Prefix.Parse("192.168.1.6/31")), new Nlri(Prefix.Parse("10.0.0.1/32")), new Nlri(Prefix.Parse("10.0.0.0/8"))], list);
        list.Clear();
        foreach (var n in new NlriReader(Hex("30 FD0000010002 41 FD00000100020003FF 80 FD000001000200030004000500060007"), true, false))
            list.Add(n);
        Assert.Equal([new Nlri(Prefix.Parse("fd00:1:2::/48")), new Nlri(Prefix.Parse("fd00:1:2:3:8000::/65")), new Nlri(Prefix.Parse("fd00:1:2:3:4:5:6:7/128"))], list);
        // Round trip of every length through the writer.
        var random = new Random(4271);
        var buffer = new byte[32];
        for (var len = 0; len <= 128; len++)
        {
            var bytes = new byte[16];
            random.NextBytes(bytes);
            foreach (var v6 in len <= 32 ? new[] { false, true } : [true])
            {
                var p = new Prefix(IpAddr.FromBytes(v6 ? bytes : bytes[..4]), len);
                var n = NlriReader.Write(buffer, new Nlri(p), false);
                var r = new NlriReader(buffer.AsSpan(0, n), v6, false);
                Assert.True(r.MoveNext());
                Assert.Equal(p, r.Current.Prefix);
                Assert.False(r.MoveNext());
                Assert.False(r.Malformed);
            }
        }
    }

    [Fact]
    public void Update_round_trips_ipv4_with_all_attributes()
    {
        var attrs = new PathAttributes
        {
            Source = RouteSource.Bgp,
            Origin = BgpOrigin.Igp,
            AsPath = AsPath.FromSequence(64512, 4200000000),
            NextHop = IpAddr.Parse("10.0.0.2"),
            Med = 5,
            LocalPref = 200,
            AtomicAggregate = true,
            AggregatorAs = 64512,
            AggregatorAddress = IpAddr.Parse("10.0.0.9"),
            Communities = [new Community(64512, 1)],
            ExtendedCommunities = [0x0002FC0000000001UL],
            LargeCommunities = [new LargeCommunity(1, 2, 3)],
            OriginatorId = 0x0A000009,
            ClusterList = [1, 2],
            Unknown = [new RawAttribute(0xE0, 99, new byte[] { 1, 2 })],
        };
        foreach (var as4 in new[] { true, false })
        {
            var codec = new BgpCodec(as4, false, AddPathMode.None, AddPathMode.None);
            var encoded = AttributeEncoder.Encode(attrs, codec, true);
            var w = new ArrayBufferWriter<byte>();
            UpdateWriter.WriteAnnouncements(w, codec, encoded, [new Nlri(Prefix.Parse("10.50.1.0/24"))], false);
            var buf = Seq(w.WrittenSpan.ToArray());
            Assert.True(FrameReader.TryRead(ref buf, 4096, out var frame, out _));
            Assert.True(UpdateMessage.TryParse(frame.Body.ToArray(), out var u, out _));
            var d = AttributeDecoder.Decode(u.Attributes, codec, new DecodeContext(true, IpAddr.Parse("10.0.0.2")), true);
            Assert.Equal(ErrorAction.None, d.Action);
            var expected = attrs with { Dest = RouteDest.Router, Gateway = attrs.NextHop, From = IpAddr.Parse("10.0.0.2") };
            Assert.Equal(expected, d.Attributes);
        }
    }

    [Fact]
    public void Update_round_trips_ipv6_mp_reach_and_unreach()
    {
        var codec = new BgpCodec(true, false, AddPathMode.None, AddPathMode.Tx);
        var attrs = new PathAttributes { Origin = BgpOrigin.Igp, AsPath = AsPath.Empty, LocalPref = 100 };
        var encoded = AttributeEncoder.Encode(attrs, codec, false);
        var w = new ArrayBufferWriter<byte>();
        UpdateWriter.WriteAnnouncements(w, codec, encoded, [new Nlri(Prefix.Parse("fd00:50::/64"), 3)], true, IpAddr.Parse("fd00::2"), IpAddr.Parse("fe80::2"));
        var rx = new BgpCodec(true, false, AddPathMode.None, AddPathMode.Rx);
        var buf = Seq(w.WrittenSpan.ToArray());
        Assert.True(FrameReader.TryRead(ref buf, 4096, out var frame, out _));
        var body = frame.Body.ToArray();
        Assert.True(UpdateMessage.TryParse(body, out var u, out _));
        var d = AttributeDecoder.Decode(u.Attributes, rx, new DecodeContext(true, IpAddr.Parse("fd00::2")), false);
        Assert.Equal(ErrorAction.None, d.Action);
        Assert.True(d.HasMpReach);
        Assert.Equal(IpAddr.Parse("fd00::2"), d.MpNextHop);
        Assert.Equal(IpAddr.Parse("fe80::2"), d.MpLinkLocalNextHop);
        var r = new NlriReader(d.MpReachNlri, true, true);
        Assert.True(r.MoveNext());
        Assert.Equal(new Nlri(Prefix.Parse("fd00:50::/64"), 3), r.Current);

        w.Clear();
        UpdateWriter.WriteWithdrawals(w, codec, [new Nlri(Prefix.Parse("fd00:50::/64"), 3)], true);
        buf = Seq(w.WrittenSpan.ToArray());
        Assert.True(FrameReader.TryRead(ref buf, 4096, out frame, out _));
        body = frame.Body.ToArray();
        Assert.True(UpdateMessage.TryParse(body, out u, out _));
        d = AttributeDecoder.Decode(u.Attributes, rx, new DecodeContext(true, IpAddr.Parse("fd00::2")), false);
        Assert.True(d.HasMpUnreach);
        Assert.True(NlriReader.Validate(d.MpUnreachNlri, true, true));
    }

    [Fact]
    public void Many_prefixes_are_packed_into_few_messages_below_the_limit()
    {
        var codec = BgpCodec.Default;
        var attrs = AttributeEncoder.Encode(new PathAttributes { Origin = BgpOrigin.Igp, AsPath = AsPath.Empty, NextHop = IpAddr.Parse("10.0.0.1") }, codec, true);
        var nlri = Enumerable.Range(0, 3000).Select(i => new Nlri(new Prefix(IpAddr.FromV4(0x0A000000u + ((uint)i << 8)), 24))).ToArray();
        var w = new ArrayBufferWriter<byte>();
        var messages = UpdateWriter.WriteAnnouncements(w, codec, attrs, nlri, false);
        Assert.Equal(3, messages);
        var buf = Seq(w.WrittenSpan.ToArray());
        var count = 0;
        while (FrameReader.TryRead(ref buf, 4096, out var frame, out _))
        {
            Assert.True(UpdateMessage.TryParse(frame.Body.ToArray(), out var u, out _));
            foreach (var _ in new NlriReader(u.Nlri, false, false))
                count++;
        }
        Assert.Equal(3000, count);
    }

    [Fact]
    public void End_of_rib_markers()
    {
        var w = new ArrayBufferWriter<byte>();
        UpdateWriter.WriteEndOfRib(w, false);
        Assert.Equal(Hex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF 0017 02 0000 0000"), w.WrittenSpan.ToArray());
        w.Clear();
        UpdateWriter.WriteEndOfRib(w, true);
        Assert.Equal(Hex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF 001D 02 0000 0006 800F03 0002 01"), w.WrittenSpan.ToArray());
    }

    [Fact]
    public void As4_path_is_merged_on_a_two_octet_session()
    {
        var merged = AsPathCodec.Merge(AsPath.FromSequence(65001, 23456, 23456), AsPath.FromSequence(4200000001, 4200000002));
        Assert.Equal("65001 4200000001 4200000002", merged.ToString());
        // AS4_PATH longer than AS_PATH is ignored (RFC 6793 §4.2.3).
        Assert.Equal("65001", AsPathCodec.Merge(AsPath.FromSequence(65001), AsPath.FromSequence(1, 2)).ToString());
    }
}
