using System.Collections.Concurrent;
using System.Net;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>
/// BIRD 1.6's <c>import limit N action warn|block|restart|disable</c>, one action per test, against a
/// scripted neighbour over loopback 127.0.8.x.
/// </summary>
public class ImportLimitTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private static readonly BgpCodec PeerCodec = new(true, false, AddPathMode.None, AddPathMode.None);
    private const uint PeerAs = 64513;
    private const uint PeerId = 0x0A0000F0;

    private static BgpProtocol Protocol(RoutingTable table, string name, string address, int port, ImportLimit limit, ILoggerFactory loggers, TimeProvider? time = null) =>
        new(new BgpProtocolOptions
        {
            Name = name,
            RouterId = 0x0A000001,
            LocalAs = 64512,
            PeerAs = PeerAs,
            NeighborAddress = IpAddr.Parse(address),
            NeighborPort = port,
            SourceAddress = IpAddr.Parse("127.0.0.1"),
            ConnectDelayTime = 0,
            ConnectRetryTime = 5,
            ErrorWaitMin = 1,
            ErrorWaitMax = 1,
            ImportLimit = limit,
        }, table, time ?? TimeProvider.System, loggers, null);

    private static Task AnnounceAsync(ScriptedPeer peer, string nextHop, params string[] prefixes)
    {
        var attrs = AttributeEncoder.Encode(new PathAttributes { Origin = BgpOrigin.Igp, AsPath = AsPath.FromSequence(PeerAs), NextHop = IpAddr.Parse(nextHop) }, PeerCodec, true);
        return peer.SendAsync(w => UpdateWriter.WriteAnnouncements(w, PeerCodec, attrs, [.. prefixes.Select(p => new Nlri(Prefix.Parse(p)))], false));
    }

    private static Task WithdrawAsync(ScriptedPeer peer, params string[] prefixes) =>
        peer.SendAsync(w => UpdateWriter.WriteWithdrawals(w, PeerCodec, [.. prefixes.Select(p => new Nlri(Prefix.Parse(p)))], false));

    private static bool Has(RoutingTable table, string prefix) => table.Find(Prefix.Parse(prefix)) is { } e && e.Routes.Any();

    private static void AssertMaximumPrefixesCease(byte[] notification)
    {
        Assert.Equal((byte)NotificationCode.Cease, notification[19]);
        Assert.Equal((byte)CeaseSubcode.MaximumPrefixes, notification[20]);
    }

    [Fact]
    public async Task Warn_logs_when_the_limit_is_hit_and_keeps_importing()
    {
        var table = new RoutingTable();
        var logs = new CapturingLoggers();
        using var l = ScriptedPeer.Listen("127.0.8.1");
        var bgp = Protocol(table, "lim_warn", "127.0.8.1", ((IPEndPoint)l.LocalEndPoint!).Port, new ImportLimit(2, ImportLimitAction.Warn), logs);
        await bgp.StartAsync(CancellationToken.None);
        try
        {
            await using var peer = await ScriptedPeer.AcceptAsync(l);
            await peer.HandshakeAsync(PeerAs, PeerId, ScriptedPeer.Caps(asn: PeerAs));
            await AnnounceAsync(peer, "127.0.8.1", "10.81.1.0/24", "10.81.2.0/24", "10.81.3.0/24");
            await AnnounceAsync(peer, "127.0.8.1", "10.81.4.0/24");
            await Wait.UntilAsync(() => bgp.Stats.Imported == 4, Timeout, "every route imported");
            Assert.Equal(4, bgp.Stats.ImportUpdatesAccepted);
            Assert.Equal(0, bgp.Stats.ImportUpdatesIgnored);
            // BIRD logs a warn limit when a route arrives at exactly the limit: the 3rd, not the 4th.
            Assert.Equal(1, bgp.ImportLimitHits);
            Assert.Equal(["Protocol lim_warn hits route import limit (2), action: warn"], logs.Warnings.Where(m => m.Contains("import limit", StringComparison.Ordinal)));
            Assert.True(bgp.ImportLimitActive);
            Assert.Equal(ProtocolState.Up, bgp.State);
        }
        finally
        {
            await bgp.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Block_drops_new_routes_as_ignored_until_the_count_falls_below_the_limit()
    {
        var table = new RoutingTable();
        var logs = new CapturingLoggers();
        using var l = ScriptedPeer.Listen("127.0.8.2");
        var bgp = Protocol(table, "lim_block", "127.0.8.2", ((IPEndPoint)l.LocalEndPoint!).Port, new ImportLimit(2, ImportLimitAction.Block), logs);
        await bgp.StartAsync(CancellationToken.None);
        try
        {
            await using var peer = await ScriptedPeer.AcceptAsync(l);
            await peer.HandshakeAsync(PeerAs, PeerId, ScriptedPeer.Caps(asn: PeerAs));
            await AnnounceAsync(peer, "127.0.8.2", "10.82.1.0/24", "10.82.2.0/24", "10.82.3.0/24");
            await AnnounceAsync(peer, "127.0.8.2", "10.82.4.0/24");
            await Wait.UntilAsync(() => bgp.Stats.ImportUpdatesReceived == 4, Timeout, "both updates processed");
            Assert.Equal(2, bgp.Stats.Imported);
            Assert.Equal(2, bgp.Stats.ImportUpdatesAccepted);
            Assert.Equal(2, bgp.Stats.ImportUpdatesIgnored);
            Assert.True(Has(table, "10.82.2.0/24"));
            Assert.False(Has(table, "10.82.3.0/24"));
            Assert.False(Has(table, "10.82.4.0/24"));
            Assert.Equal(1, bgp.ImportLimitHits);
            Assert.Single(logs.Warnings, m => m == "Protocol lim_block hits route import limit (2), action: block");

            // A route already held may change while blocked: only new ones count.
            var attrs = AttributeEncoder.Encode(new PathAttributes { Origin = BgpOrigin.Egp, AsPath = AsPath.FromSequence(PeerAs), NextHop = IpAddr.Parse("127.0.8.2") }, PeerCodec, true);
            await peer.SendAsync(w => UpdateWriter.WriteAnnouncements(w, PeerCodec, attrs, [new Nlri(Prefix.Parse("10.82.1.0/24"))], false));
            await Wait.UntilAsync(() => bgp.Stats.ImportUpdatesAccepted == 3, Timeout, "the replacement accepted");

            // One withdrawn: below the limit, a new route goes in again.
            await WithdrawAsync(peer, "10.82.2.0/24");
            await AnnounceAsync(peer, "127.0.8.2", "10.82.3.0/24");
            // The UPDATE's counts are added just after its routes reach the table: wait for both.
            await Wait.UntilAsync(() => Has(table, "10.82.3.0/24") && bgp.Stats.Imported == 2, Timeout, "a new route accepted below the limit");
            Assert.Equal(ProtocolState.Up, bgp.State);
        }
        finally
        {
            await bgp.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Restart_resets_the_session_with_maximum_prefixes_and_connects_again()
    {
        var table = new RoutingTable();
        var logs = new CapturingLoggers();
        using var l = ScriptedPeer.Listen("127.0.8.3");
        var bgp = Protocol(table, "lim_restart", "127.0.8.3", ((IPEndPoint)l.LocalEndPoint!).Port, new ImportLimit(1, ImportLimitAction.Restart), logs);
        await bgp.StartAsync(CancellationToken.None);
        try
        {
            var peer = await ScriptedPeer.AcceptAsync(l);
            await peer.HandshakeAsync(PeerAs, PeerId, ScriptedPeer.Caps(asn: PeerAs));
            await AnnounceAsync(peer, "127.0.8.3", "10.83.1.0/24", "10.83.2.0/24");
            AssertMaximumPrefixesCease(await peer.ReadUntilAsync(MessageType.Notification));
            // Already there when the Cease is out (the FSM sets it with Idle, before the send):
            // BIRD 1.6's bgp_shutdown stores the automatic shutdown for restart as for disable.
            Assert.Equal("Automatic shutdown: Route limit exceeded", bgp.Snapshot().LastError);
            Assert.EndsWith("  Automatic shutdown: Route limit exceeded", bgp.Info, StringComparison.Ordinal);
            await peer.DisposeAsync();
            Assert.Equal(1, bgp.ImportLimitHits);
            Assert.Single(logs.Warnings, m => m == "Protocol lim_restart hits route import limit (1), action: restart");
            // Counted once the send returns, which may be just after the peer has read it.
            await Wait.UntilAsync(() => bgp.Messages.NotificationsSent().Count > 0, Timeout, "the NOTIFICATION counted");
            Assert.Equal([new NotificationCount(6, 1, 1)], bgp.Messages.NotificationsSent());

            // Restarted after the error wait, with nothing kept from the reset session.
            await using var again = await ScriptedPeer.AcceptAsync(l);
            Assert.Equal(0, bgp.Stats.Imported);
            Assert.False(Has(table, "10.83.1.0/24"));
            // Kept through the restart until the next Established, as BIRD's bgp_start keeps it.
            Assert.Equal("Automatic shutdown: Route limit exceeded", bgp.Snapshot().LastError);
            await again.HandshakeAsync(PeerAs, PeerId, ScriptedPeer.Caps(asn: PeerAs));
            await Wait.UntilAsync(() => bgp.State == ProtocolState.Up, Timeout, "Established again");
            await AnnounceAsync(again, "127.0.8.3", "10.83.1.0/24");
            await Wait.UntilAsync(() => Has(table, "10.83.1.0/24"), Timeout, "the new session's route imported");
            Assert.Equal(1, bgp.ImportLimitHits);
        }
        finally
        {
            await bgp.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Disable_sends_maximum_prefixes_and_stays_down_until_started_again()
    {
        var table = new RoutingTable();
        var logs = new CapturingLoggers();
        using var l = ScriptedPeer.Listen("127.0.8.4");
        // BIRD's default action is disable.
        var bgp = Protocol(table, "lim_disable", "127.0.8.4", ((IPEndPoint)l.LocalEndPoint!).Port, new ImportLimit(1), logs);
        await bgp.StartAsync(CancellationToken.None);
        try
        {
            await using (var peer = await ScriptedPeer.AcceptAsync(l))
            {
                await peer.HandshakeAsync(PeerAs, PeerId, ScriptedPeer.Caps(asn: PeerAs));
                await AnnounceAsync(peer, "127.0.8.4", "10.84.1.0/24", "10.84.2.0/24");
                AssertMaximumPrefixesCease(await peer.ReadUntilAsync(MessageType.Notification));
            }
            await Wait.UntilAsync(() => bgp.State == ProtocolState.Down, Timeout, "the protocol down");
            Assert.True(bgp.DisabledByImportLimit);
            Assert.Equal(1, bgp.ImportLimitHits);
            Assert.Single(logs.Warnings, m => m == "Protocol lim_disable hits route import limit (1), action: disable");
            // Counted once the send returns, which may be just after the peer has read it.
            await Wait.UntilAsync(() => bgp.Messages.NotificationsSent().Count > 0, Timeout, "the NOTIFICATION counted");
            Assert.Equal([new NotificationCount(6, 1, 1)], bgp.Messages.NotificationsSent());
            Assert.Equal(0, bgp.Stats.Imported);
            Assert.False(Has(table, "10.84.1.0/24"));
            // Down shows why, as BIRD 1.6 shows a protocol the limit shut down (BE_AUTO_DOWN); in
            // show protocols all too.
            Assert.Equal("Automatic shutdown: Route limit exceeded", bgp.Info);
            Assert.Equal("Automatic shutdown: Route limit exceeded", bgp.Snapshot().LastError);

            // It stays down: no new connection well past the 1 s error wait.
            using (var quiet = new CancellationTokenSource(TimeSpan.FromSeconds(3)))
                await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => (await l.AcceptAsync(quiet.Token)).Dispose());
            Assert.Equal(ProtocolState.Down, bgp.State);

            // `enable` starts it again.
            await bgp.StartAsync(CancellationToken.None);
            Assert.False(bgp.DisabledByImportLimit);
            await using var again = await ScriptedPeer.AcceptAsync(l);
            await again.HandshakeAsync(PeerAs, PeerId, ScriptedPeer.Caps(asn: PeerAs));
            await Wait.UntilAsync(() => bgp.State == ProtocolState.Up, Timeout, "Established after enable");
            await AnnounceAsync(again, "127.0.8.4", "10.84.1.0/24");
            await Wait.UntilAsync(() => Has(table, "10.84.1.0/24"), Timeout, "the new session's route imported");
        }
        finally
        {
            await bgp.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Disable_is_never_down_without_the_limit_error()
    {
        var table = new RoutingTable();
        var clock = new DownWatchingClock();
        using var l = ScriptedPeer.Listen("127.0.8.5");
        var bgp = Protocol(table, "lim_down", "127.0.8.5", ((IPEndPoint)l.LocalEndPoint!).Port, new ImportLimit(1, ImportLimitAction.Disable), new CapturingLoggers(), clock);
        clock.Watch(bgp);
        await bgp.StartAsync(CancellationToken.None);
        try
        {
            await using (var peer = await ScriptedPeer.AcceptAsync(l))
            {
                await peer.HandshakeAsync(PeerAs, PeerId, ScriptedPeer.Caps(asn: PeerAs));
                await AnnounceAsync(peer, "127.0.8.5", "10.85.1.0/24", "10.85.2.0/24");
                AssertMaximumPrefixesCease(await peer.ReadUntilAsync(MessageType.Notification));
            }
            await Wait.UntilAsync(() => bgp.State == ProtocolState.Down, Timeout, "the protocol down");
            // The clock's look may come from another thread that is still reading Info (it waits for
            // the lock the stop holds) when the test already sees Down: wait for the look itself.
            await Wait.UntilAsync(() => clock.InfoWhenFirstDown is not null, Timeout, "the clock's look at the first instant of Down");
            // What show protocols would have printed at the very instant the state became Down.
            Assert.Equal("Automatic shutdown: Route limit exceeded", clock.InfoWhenFirstDown);
            Assert.Equal("Automatic shutdown: Route limit exceeded", bgp.Info);
        }
        finally
        {
            await bgp.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// The system clock, which also reads the watched protocol's info the first time it is asked
    /// for the time while the protocol is Down. Setting a state stamps its time right after the
    /// state is written, on the thread (and under the locks) that set it, so this sees exactly
    /// what any reader could see at the first instant of Down: no sampling, no timing.
    /// </summary>
    private sealed class DownWatchingClock : TimeProvider
    {
        private BgpProtocol? _watched;
        private int _seen;

        private string? _infoWhenFirstDown;

        /// <summary>Info as read at the first instant of Down; null until that read has finished.</summary>
        public string? InfoWhenFirstDown => Volatile.Read(ref _infoWhenFirstDown);

        public void Watch(BgpProtocol protocol) => _watched = protocol;

        public override DateTimeOffset GetUtcNow()
        {
            if (_watched is { State: ProtocolState.Down } p && Interlocked.Exchange(ref _seen, 1) == 0)
                Volatile.Write(ref _infoWhenFirstDown, p.Info);
            return System.GetUtcNow();
        }

        public override long GetTimestamp() => System.GetTimestamp();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            System.CreateTimer(callback, state, dueTime, period);
    }
}
