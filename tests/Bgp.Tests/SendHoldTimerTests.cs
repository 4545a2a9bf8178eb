using System.Net.Sockets;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Session;
using Calico.Bgp.Speaker.Wire;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>
/// RFC 9687's send hold timer: the timer in the FSM (its value, its restarts, its expiry) and a
/// session whose peer keeps sending KEEPALIVEs but never reads what we send. Loopback 127.0.7.x.
/// </summary>
public class SendHoldTimerTests
{
    private static readonly CapabilitySet Caps = new() { Families = [AfiSafi.Ipv4Unicast], FourOctetAs = 64512, RouteRefresh = true };

    private static (BgpFsm Fsm, ManualTime Time) Established(int hold = 90, int? sendHold = null, ushort peerHold = 90)
    {
        var time = new ManualTime();
        var fsm = new BgpFsm(new FsmConfig { LocalAs = 64512, PeerAs = 64512, RouterId = 0x0A000001, Capabilities = Caps, HoldTime = hold, SendHoldTime = sendHold }, time);
        fsm.Handle(FsmEventKind.ManualStart);
        fsm.Handle(FsmEventKind.TcpConnectionConfirmed);
        fsm.Handle(new FsmEvent(FsmEventKind.BgpOpen, Open: OpenMessage.Create(64512, peerHold, 0x0A000002, Caps)));
        fsm.Handle(FsmEventKind.KeepAliveMsg);
        Assert.Equal(BgpState.Established, fsm.State);
        return (fsm, time);
    }

    [Theory]
    // Unset: RFC 9687's 8 minutes, or twice the hold time when that is longer.
    [InlineData(240, null, 90, 480)]
    [InlineData(240, null, 240, 480)]
    [InlineData(600, null, 600, 1200)]
    // Configured: scaled with the negotiated hold time, as BIRD 2 scales it.
    [InlineData(90, 10, 90, 10)]
    [InlineData(240, 480, 90, 180)]
    // Off: configured 0, or no hold time at all.
    [InlineData(240, 0, 90, 0)]
    [InlineData(240, null, 0, 0)]
    public void The_send_hold_time_follows_the_rfc_default_and_birds_scaling(int hold, int? configured, ushort peerHold, int expected)
    {
        var (fsm, _) = Established(hold, configured, peerHold);
        Assert.Equal(expected, fsm.SendHoldTime);
        Assert.Equal(expected == 0, fsm.SendHoldDeadline is null);
    }

    [Fact]
    public void Writes_without_progress_for_the_send_hold_time_end_the_session_with_code_8()
    {
        var (fsm, time) = Established(sendHold: 10);
        var stalledSince = time.GetUtcNow();
        // The peer's KEEPALIVEs keep arriving: they restart the hold timer, not the send hold timer.
        for (var i = 0; i < 9; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            fsm.Handle(FsmEventKind.KeepAliveMsg);
            fsm.SendProgress(stalledSince);
            Assert.Empty(fsm.TickSendHold());
        }
        time.Advance(TimeSpan.FromSeconds(1));
        fsm.SendProgress(stalledSince);
        var actions = fsm.TickSendHold();
        Assert.Equal([FsmActionKind.SendNotification, FsmActionKind.Close], actions.Select(a => a.Kind));
        Assert.Equal(NotificationCode.SendHoldTimerExpired, actions[0].Error!.Value.Code);
        Assert.Equal(0, actions[0].Error!.Value.Subcode);
        Assert.Equal(BgpState.Idle, fsm.State);
        Assert.Equal("BGP Error: Send hold timer expired", fsm.LastError);
        Assert.Null(fsm.SendHoldDeadline);
    }

    [Fact]
    public void Any_progress_restarts_the_send_hold_timer()
    {
        var (fsm, time) = Established(sendHold: 10);
        for (var i = 0; i < 30; i++)
        {
            time.Advance(TimeSpan.FromSeconds(6));
            // The peer took a slice of our data 1 s ago: never 10 s without progress.
            fsm.SendProgress(time.GetUtcNow() - TimeSpan.FromSeconds(1));
            Assert.Empty(fsm.TickSendHold());
        }
        Assert.Equal(BgpState.Established, fsm.State);
    }

    [Fact]
    public void Code_8_is_counted_in_its_own_slot_and_named_as_bird_2_names_it()
    {
        var stats = new BgpMessageStats();
        stats.CountNotificationSent(8, 0);
        Assert.Equal([new NotificationCount(8, 0, 1)], stats.NotificationsSent());
        Assert.Equal("Send hold timer expired", BgpError.SendHoldTimerExpired.Description);
    }

    /// <summary>A peer that completes the handshake, then only sends KEEPALIVEs and never reads.</summary>
    [Fact]
    public async Task A_peer_that_stops_reading_is_dropped_while_another_peer_gets_every_route()
    {
        const int routes = 20_000;
        var table = new RoutingTable();
        var stat = new TestStatic(table);
        for (var i = 0; i < routes; i++)
            stat.AddBlackhole($"10.{64 + i / 65536}.{i / 256 % 256}.{i % 256}/32");

        // Small buffers both ways, so the stall is reached after a few KiB rather than megabytes.
        using var stalledListener = ScriptedPeer.Listen("127.0.7.2", receiveBuffer: 4096);
        using var healthyListener = ScriptedPeer.Listen("127.0.7.3");
        var stalled = Protocol(table, "stalled", "127.0.7.2", stalledListener, sendHold: 3, sendBuffer: 8192);
        var healthy = Protocol(table, "healthy", "127.0.7.3", healthyListener, sendHold: 3);
        await stalled.StartAsync(CancellationToken.None);
        await healthy.StartAsync(CancellationToken.None);
        using var stop = new CancellationTokenSource();
        try
        {
            await using var stalledPeer = await ScriptedPeer.AcceptAsync(stalledListener);
            await stalledPeer.HandshakeAsync(64513, 0x0A0000F2u, ScriptedPeer.Caps(asn: 64513));
            var keepalives = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        await stalledPeer.SendKeepaliveAsync();
                        await Task.Delay(TimeSpan.FromSeconds(1), stop.Token);
                    }
                    catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
                    {
                        return;
                    }
                }
            });

            await using var healthyPeer = await ScriptedPeer.AcceptAsync(healthyListener);
            await healthyPeer.HandshakeAsync(64513, 0x0A0000F3u, ScriptedPeer.Caps(asn: 64513));
            var received = new HashSet<Nlri>();
            while (true)
            {
                var m = await healthyPeer.ReadUntilAsync(MessageType.Update, TimeSpan.FromSeconds(60));
                if (ScriptedPeer.IsEndOfRib(m))
                    break;
                ScriptedPeer.Apply(received, m, addPath: false);
            }
            Assert.Equal(routes, received.Count);

            await Wait.UntilAsync(() => stalled.Snapshot().LastError is not null && stalled.Messages.NotificationsSent().Count > 0, TimeSpan.FromSeconds(60), "the stalled session to be dropped");
            Assert.Equal("BGP Error: Send hold timer expired", stalled.Snapshot().LastError);
            Assert.Contains(new NotificationCount(8, 0, 1), stalled.Messages.NotificationsSent());
            Assert.Equal(ProtocolState.Up, healthy.State);
            Assert.Empty(healthy.Messages.NotificationsSent());
            Assert.Null(healthy.Snapshot().LastError);
            await stop.CancelAsync();
            await keepalives;
        }
        finally
        {
            await stop.CancelAsync();
            await stalled.StopAsync(CancellationToken.None);
            await healthy.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// A peer that stops reading and sending alike: the hold timer (RFC 4271 §6.5) still fires in
    /// its time, though the KEEPALIVE ours owes the peer cannot be written.
    /// </summary>
    [Fact]
    public async Task The_hold_timer_fires_while_our_writes_are_stuck()
    {
        var table = new RoutingTable();
        var stat = new TestStatic(table);
        for (var i = 0; i < 20_000; i++)
            stat.AddBlackhole($"10.{64 + i / 65536}.{i / 256 % 256}.{i % 256}/32");
        using var listener = ScriptedPeer.Listen("127.0.7.4", receiveBuffer: 4096);
        // No send hold timer: only the hold timer can end this session.
        var bgp = Protocol(table, "dead", "127.0.7.4", listener, sendHold: 0, sendBuffer: 8192);
        await bgp.StartAsync(CancellationToken.None);
        try
        {
            await using var peer = await ScriptedPeer.AcceptAsync(listener);
            await peer.ReadUntilAsync(MessageType.Open);
            await peer.SendOpenAsync(64513, 0x0A0000F4u, ScriptedPeer.Caps(asn: 64513), hold: 3);
            await peer.SendKeepaliveAsync();
            await Wait.UntilAsync(() => bgp.State == ProtocolState.Up, TimeSpan.FromSeconds(20), "Established");
            // Silence both ways from here; the 3 s hold timer must end it.
            await Wait.UntilAsync(() => bgp.Snapshot().LastError is not null, TimeSpan.FromSeconds(30), "the hold timer to expire");
            Assert.Equal("BGP Error: Hold timer expired", bgp.Snapshot().LastError);
        }
        finally
        {
            await bgp.StopAsync(CancellationToken.None);
        }
    }

    private static BgpProtocol Protocol(RoutingTable table, string name, string address, Socket listener, int sendHold, int sendBuffer = 0) =>
        new(LoopbackOptions.For(name, address, listener) with
        {
            ExportFilter = RouteFilter.AcceptAll,
            SendHoldTime = sendHold,
            SocketFactory = family =>
            {
                var s = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
                if (sendBuffer > 0)
                    s.SendBufferSize = sendBuffer;
                return s;
            },
        }, table, TimeProvider.System, NullLoggerFactory.Instance, null);
}
