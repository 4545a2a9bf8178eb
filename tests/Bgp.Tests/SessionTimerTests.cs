using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Session;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>
/// A real session (loopback 127.0.7.20–21) whose keepalive and hold timers run in a shared
/// <see cref="DeadlineScheduler"/> on a fake clock: nothing happens until the clock reaches a
/// deadline, then the right message goes out.
/// </summary>
public class SessionTimerTests
{
    private static readonly TimeSpan Patience = FakeClockSession.Patience;

    [Fact]
    public async Task Keepalive_and_hold_timers_fire_at_their_deadlines_on_the_shared_scheduler()
    {
        await using var s = await FakeClockSession.OpenAsync("timers", "127.0.7.20", 0x0A0000F5u);
        var (time, timers, bgp, peer) = (s.Time, s.Timers, s.Bgp, s.Peer);
        Assert.Equal(MessageType.Keepalive, ScriptedPeer.TypeOf(await peer.ReadAsync()));
        await Wait.UntilAsync(() => bgp.State == ProtocolState.Up, Patience, "Established");
        // The End-of-RIB (no routes to send) restarts the keepalive timer: it must be out before
        // the clock moves, or the first KEEPALIVE would be due a whole interval later.
        Assert.True(ScriptedPeer.IsEndOfRib(await peer.ReadUntilAsync(MessageType.Update, Patience)));
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
        Assert.True(ScriptedPeer.IsEndOfRib(await peer.ReadUntilAsync(MessageType.Update, Patience)));
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
}
