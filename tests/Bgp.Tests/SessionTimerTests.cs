using System.Net;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Session;
using Calico.Bgp.Speaker.Wire;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>
/// A real session (loopback 127.0.7.20–21) whose keepalive and hold timers run in a shared
/// <see cref="DeadlineScheduler"/> on a fake clock: nothing happens until the clock reaches a
/// deadline, then the right message goes out.
/// </summary>
public class SessionTimerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Keepalive_and_hold_timers_fire_at_their_deadlines_on_the_shared_scheduler()
    {
        await using var s = await FakeClockSession.OpenAsync("timers", "127.0.7.20", 0x0A0000F5u);
        var (time, timers, bgp, peer) = (s.Time, s.Timers, s.Bgp, s.Peer);
        Assert.Equal(MessageType.Keepalive, ScriptedPeer.TypeOf(await peer.ReadAsync()));
        await Wait.UntilAsync(() => bgp.State == ProtocolState.Up, Patience, "Established");
        // The End-of-RIB (no routes to send) may come first.
        await Wait.UntilAsync(() => timers.ArmedCount == 1, Patience, "the session's deadline to be armed");

        time.Advance(TimeSpan.FromSeconds(3));
        await ReadUntilTypeAsync(peer, MessageType.Keepalive);

        time.Advance(TimeSpan.FromSeconds(3));
        await ReadUntilTypeAsync(peer, MessageType.Keepalive);
        Assert.Equal(ProtocolState.Up, bgp.State);

        // The peer's silence reaches the hold time (9 s after its KEEPALIVE).
        time.Advance(TimeSpan.FromSeconds(3));
        // The NOTIFICATION goes only if the socket takes it at once; the KEEPALIVE due at the
        // same instant may still hold the write, and then the connection is reset without it.
        var end = await ReadUntilNotificationOrEndAsync(peer);
        if (end is { } n)
            Assert.Equal((byte)NotificationCode.HoldTimerExpired, n[19]);
        await Wait.UntilAsync(() => bgp.Snapshot().LastError is not null, Patience, "the session to go down");
        Assert.Equal("BGP Error: Hold timer expired", bgp.Snapshot().LastError);
        await Wait.UntilAsync(() => timers.ArmedCount == 0, Patience, "the ended session's deadline to be dropped");
    }

    [Fact]
    public async Task A_peers_keepalives_keep_the_session_up_past_many_hold_times()
    {
        await using var s = await FakeClockSession.OpenAsync("kept", "127.0.7.21", 0x0A0000F6u);
        var (time, bgp, peer) = (s.Time, s.Bgp, s.Peer);
        await Wait.UntilAsync(() => bgp.State == ProtocolState.Up, Patience, "Established");
        for (var i = 0; i < 10; i++)
        {
            // The peer's KEEPALIVE restarts our hold timer before each 3 s step: 30 s in all,
            // past three hold times, with one of our KEEPALIVEs per step.
            await peer.SendKeepaliveAsync();
            await Wait.UntilAsync(() => bgp.Messages.MessagesReceived(MessageType.Keepalive) >= i + 2, Patience, $"KEEPALIVE {i + 2} read");
            time.Advance(TimeSpan.FromSeconds(3));
            await ReadUntilTypeAsync(peer, MessageType.Keepalive);
        }
        Assert.Equal(ProtocolState.Up, bgp.State);
        Assert.Null(bgp.Snapshot().LastError);
    }

    /// <summary>
    /// Our protocol on a fake clock with its own scheduler, connected to a scripted peer that has
    /// answered our OPEN (hold time 9 s: a keepalive every 3 s, RFC 4271 §4.4's third) and sent one
    /// KEEPALIVE; disposing stops the protocol and closes the rest.
    /// </summary>
    private sealed class FakeClockSession : IAsyncDisposable
    {
        private readonly System.Net.Sockets.Socket _listener;

        private FakeClockSession(string name, string address)
        {
            Timers = new DeadlineScheduler(Time);
            _listener = ScriptedPeer.Listen(address);
            Bgp = Protocol(name, address, _listener, Time, Timers);
        }

        public FakeTimeProvider Time { get; } = new();
        public DeadlineScheduler Timers { get; }
        public BgpProtocol Bgp { get; }
        public ScriptedPeer Peer { get; private set; } = null!;

        public static async Task<FakeClockSession> OpenAsync(string name, string address, uint peerId)
        {
            var s = new FakeClockSession(name, address);
            try
            {
                await s.Bgp.StartAsync(CancellationToken.None);
                // The connect delay (1 s at least) runs on the fake clock too.
                await Wait.UntilAsync(() => s.Bgp.BgpState == BgpState.Active, Patience, "the connect delay to start");
                s.Time.Advance(TimeSpan.FromSeconds(1));
                s.Peer = await ScriptedPeer.AcceptAsync(s._listener);
                await s.Peer.ReadUntilAsync(MessageType.Open);
                await s.Peer.SendOpenAsync(64513, peerId, ScriptedPeer.Caps(asn: 64513), hold: 9);
                await s.Peer.SendKeepaliveAsync();
                return s;
            }
            catch
            {
                await s.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Bgp.StopAsync(CancellationToken.None);
            if (Peer is not null)
                await Peer.DisposeAsync();
            Timers.Dispose();
            _listener.Dispose();
        }
    }

    /// <summary>The NOTIFICATION, or null when the connection ends without one.</summary>
    private static async Task<byte[]?> ReadUntilNotificationOrEndAsync(ScriptedPeer peer)
    {
        try
        {
            return await ReadUntilTypeAsync(peer, MessageType.Notification);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException)
        {
            return null;
        }
    }

    private static async Task<byte[]> ReadUntilTypeAsync(ScriptedPeer peer, MessageType type)
    {
        while (true)
        {
            var m = await peer.ReadAsync(Patience);
            if (ScriptedPeer.TypeOf(m) == type)
                return m;
        }
    }

    private static BgpProtocol Protocol(string name, string address, System.Net.Sockets.Socket listener, TimeProvider time, DeadlineScheduler timers) =>
        new(new BgpProtocolOptions
        {
            Name = name,
            RouterId = 0x0A000001,
            LocalAs = 64512,
            PeerAs = 64513,
            NeighborAddress = IpAddr.Parse(address),
            NeighborPort = ((IPEndPoint)listener.LocalEndPoint!).Port,
            SourceAddress = IpAddr.Parse("127.0.0.1"),
            ConnectDelayTime = 0,
            ErrorWaitMin = 30,
            ErrorWaitMax = 30,
            HoldTime = 90,
        }, new RoutingTable(), time, NullLoggerFactory.Instance, null, null, timers);
}
