using System.Buffers;
using System.Net;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>
/// The counters and snapshot fields <c>show protocols all</c> and the metrics read: capabilities
/// decoded for "Neighbor caps:" (LLGR, RFC 9494), message and NOTIFICATION counts, Established
/// transitions, route change statistics, BIRD's timers and its "manual down". Loopback 127.0.5.x.
/// </summary>
public class SessionCountersTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private static readonly BgpCodec PeerCodec = new(true, false, AddPathMode.None, AddPathMode.None);

    private static CapabilitySet Parse(string hex)
    {
        Assert.True(CapabilitySet.TryParse(Convert.FromHexString(hex), new CapabilitySet(), out var caps, out var error), error?.Description);
        return caps;
    }

    [Fact]
    public void Long_lived_gr_capability_is_decoded_and_named_as_bird_names_it()
    {
        // Route refresh (2), GR (64) with no family, LLGR (71) empty, AS4 (65): what BIRD 2 sends by default.
        var aware = Parse("0200" + "40020078" + "4700" + "4104" + "0000FC00");
        Assert.True(aware.LongLivedGracefulRestart);
        Assert.Equal("refresh restart-aware llgr-aware AS4", aware.Describe());

        // LLGR listing IPv4 unicast (AFI 1, SAFI 1, flags, 3-octet stale time): "llgr-able".
        var able = Parse("4707" + "00010180000E10");
        Assert.Equal([AfiSafi.Ipv4Unicast], able.LongLivedGracefulRestartFamilies);
        Assert.Equal("llgr-able", able.Describe());
    }

    [Fact]
    public void Forwarding_state_bit_is_kept_per_family()
    {
        // GR: restart time 120, IPv4 unicast with F (0x80), IPv6 unicast without.
        var caps = Parse("400A" + "0078" + "00010180" + "00020100");
        Assert.Equal([AfiSafi.Ipv4Unicast, AfiSafi.Ipv6Unicast], caps.GracefulRestartFamilies);
        Assert.Equal([AfiSafi.Ipv4Unicast], caps.GracefulRestartForwarding);
    }

    [Fact]
    public void Message_counters_walk_framed_bytes_and_bound_notification_pairs()
    {
        var stats = new BgpMessageStats();
        var w = new ArrayBufferWriter<byte>();
        KeepaliveMessage.Write(w);
        UpdateWriter.WriteWithdrawals(w, PeerCodec, [new Nlri(Prefix.Parse("10.1.0.0/16"))], false);
        KeepaliveMessage.Write(w);
        stats.CountSent(w.WrittenSpan);
        Assert.Equal(2, stats.MessagesSent(MessageType.Keepalive));
        Assert.Equal(38, stats.BytesSent(MessageType.Keepalive));
        Assert.Equal(1, stats.MessagesSent(MessageType.Update));
        Assert.Equal(w.WrittenCount - 38, stats.BytesSent(MessageType.Update));

        stats.CountNotificationSent(6, 2);
        stats.CountNotificationSent(6, 2);
        stats.CountNotificationReceived(200, 1);
        stats.CountNotificationReceived(6, 99);
        Assert.Equal([new NotificationCount(6, 2, 2)], stats.NotificationsSent());
        // Out of range, whatever the peer sends: one series, 0/0.
        Assert.Equal([new NotificationCount(0, 0, 2)], stats.NotificationsReceived());
    }

    private static BgpProtocol Protocol(RoutingTable table, string address, int port, int connectDelay = 0) =>
        new(new BgpProtocolOptions
        {
            Name = "ctr_" + address.Replace('.', '_'),
            RouterId = 0x0A000001,
            LocalAs = 64512,
            PeerAs = 64513,
            NeighborAddress = IpAddr.Parse(address),
            NeighborPort = port,
            SourceAddress = IpAddr.Parse("127.0.0.1"),
            ImportFilter = RouteFilter.AcceptAll,
            ExportFilter = RouteFilter.AcceptAll,
            ConnectDelayTime = connectDelay,
            ConnectRetryTime = 5,
            ErrorWaitMin = 1,
            ErrorWaitMax = 1,
        }, table, TimeProvider.System, NullLoggerFactory.Instance, null);

    [Fact]
    public async Task A_session_counts_messages_routes_and_transitions_and_clears_the_error_when_established()
    {
        var table = new RoutingTable();
        using var l = ScriptedPeer.Listen("127.0.5.1");
        var bgp = Protocol(table, "127.0.5.1", ((IPEndPoint)l.LocalEndPoint!).Port);
        await bgp.StartAsync(CancellationToken.None);
        try
        {
            var remote = await ScriptedPeer.AcceptAsync(l);
            await remote.HandshakeAsync(64513, 0x0A0000F0u, ScriptedPeer.Caps(asn: 64513));
            var attrs = AttributeEncoder.Encode(new PathAttributes { Origin = BgpOrigin.Igp, AsPath = AsPath.FromSequence(64513), NextHop = IpAddr.Parse("127.0.5.1") }, PeerCodec, true);
            // The same route twice: the second is BIRD's "ignored".
            for (var i = 0; i < 2; i++)
                await remote.SendAsync(w => UpdateWriter.WriteAnnouncements(w, PeerCodec, attrs, [new Nlri(Prefix.Parse("10.90.1.0/24"))], false));
            await remote.SendAsync(w => UpdateWriter.WriteWithdrawals(w, PeerCodec, [new Nlri(Prefix.Parse("10.90.9.0/24"))], false));
            await Wait.UntilAsync(() => bgp.Stats.ImportWithdrawsReceived == 1, Timeout, "the withdrawal counted");
            Assert.Equal(2, bgp.Stats.ImportUpdatesReceived);
            Assert.Equal(1, bgp.Stats.ImportUpdatesAccepted);
            Assert.Equal(1, bgp.Stats.ImportUpdatesIgnored);
            Assert.Equal(1, bgp.Stats.ImportWithdrawsIgnored);
            Assert.Equal(1, bgp.Messages.MessagesReceived(MessageType.Open));
            Assert.Equal(3, bgp.Messages.MessagesReceived(MessageType.Update));
            Assert.Equal(1, bgp.Messages.MessagesSent(MessageType.Open));
            Assert.True(bgp.Messages.BytesSent(MessageType.Open) > 29);
            Assert.Equal(1, bgp.Messages.EstablishedTransitions);
            // The route came from this peer: never offered back to it (BIRD's export "rejected").
            await Wait.UntilAsync(() => bgp.Stats.ExportUpdatesRejected >= 1, Timeout, "export rejected counted");

            // The peer closes with Cease: the error shows until the next Established, as in BIRD.
            await remote.SendAsync(w => NotificationMessage.Write(w, BgpError.Cease(CeaseSubcode.AdministrativeReset)));
            await Wait.UntilAsync(() => bgp.Snapshot().LastError is not null, Timeout, "last error recorded");
            Assert.Equal("Received: Administrative reset", bgp.Snapshot().LastError);
            Assert.Equal([new NotificationCount(6, 4, 1)], bgp.Messages.NotificationsReceived());
            await remote.DisposeAsync();
            var again = await ScriptedPeer.AcceptAsync(l);
            await again.HandshakeAsync(64513, 0x0A0000F0u, ScriptedPeer.Caps(asn: 64513));
            await Wait.UntilAsync(() => bgp.State == ProtocolState.Up, Timeout, "Established again");
            Assert.Null(bgp.Snapshot().LastError);
            Assert.Equal(2, bgp.Messages.EstablishedTransitions);

            // Removed from the config: Cease "Peer De-configured" (RFC 4486 §4, subcode 3), and no error shown after.
            var stop = bgp.StopAsync(CeaseSubcode.PeerDeconfigured, CancellationToken.None);
            var n = await again.ReadUntilAsync(MessageType.Notification);
            await stop;
            Assert.Equal((byte)NotificationCode.Cease, n[19]);
            Assert.Equal((byte)CeaseSubcode.PeerDeconfigured, n[20]);
            Assert.Equal([new NotificationCount(6, 3, 1)], bgp.Messages.NotificationsSent());
            Assert.Equal(1, bgp.Messages.MessagesSent(MessageType.Notification));
            Assert.Null(bgp.Snapshot().LastError);
            Assert.Equal("", bgp.Info);
            await again.DisposeAsync();
        }
        finally
        {
            await bgp.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_refused_peer_is_active_with_birds_connect_delay()
    {
        // A port nothing listens on: bind and close a listener to get one.
        int port;
        using (var probe = ScriptedPeer.Listen("127.0.5.2"))
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        var bgp = Protocol(new RoutingTable(), "127.0.5.2", port, connectDelay: 3);
        await bgp.StartAsync(CancellationToken.None);
        try
        {
            // BIRD's bgp_active: Active with "Connect delay: n/3" before the first attempt.
            await Wait.UntilAsync(() => bgp.Snapshot().State != Session.BgpState.Idle, Timeout, "the session loop to start");
            var first = bgp.Snapshot();
            Assert.Equal(Session.BgpState.Active, first.State);
            Assert.Equal(3, first.ConnectDelayTime);
            Assert.InRange(first.ConnectDelayRemaining ?? -1, 1, 3);
            await Wait.UntilAsync(() => bgp.Snapshot().LastError is not null, Timeout, "connection refused");
            Assert.Equal("Socket: Connection refused", bgp.Snapshot().LastError);
            await Wait.UntilAsync(() => bgp.Snapshot() is { State: Session.BgpState.Active, ConnectDelayTime: 3 }, Timeout, "Active again with the connect delay");
            Assert.Null(bgp.Snapshot().ErrorWaitRemaining);
        }
        finally
        {
            await bgp.StopAsync(CancellationToken.None);
        }
        Assert.Null(bgp.Snapshot().LastError);
        Assert.Null(bgp.Snapshot().ConnectDelayRemaining);
    }
}
