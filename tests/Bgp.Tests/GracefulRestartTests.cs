using System.Buffers;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>
/// The receiving speaker of graceful restart (RFC 4724 §4.2) against a scripted peer that drops its
/// TCP connection as a crashed daemon would: only the families it listed in its GR capability stay,
/// stale, until its End-of-RIB; a family listed without the forwarding-state bit after the restart
/// goes at once. Loopback addresses 127.0.4.x.
/// </summary>
public class GracefulRestartTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private static readonly BgpCodec PeerCodec = new(true, false, AddPathMode.None, AddPathMode.None);

    private static CapabilitySet PeerCaps(bool listIpv4) => ScriptedPeer.Caps(asn: 64513) with
    {
        GracefulRestart = true,
        GracefulRestartTime = 120,
        GracefulRestartFamilies = listIpv4 ? [AfiSafi.Ipv4Unicast] : [],
    };

    /// <summary>The peer's OPEN with the forwarding-state bit (RFC 4724 §3, flag 0x80) set or not on each GR family.</summary>
    private static byte[] OpenBytes(CapabilitySet caps, bool forwarding)
    {
        var w = new ArrayBufferWriter<byte>();
        OpenMessage.Create(64513, 90, 0x0A0000F0u, caps).Write(w);
        var m = w.WrittenSpan.ToArray();
        // Header (19) | version, AS, hold, id (9) | optional parameters length (1) | parameters.
        var p = BgpConstants.HeaderLength + 10;
        while (p < m.Length)
        {
            var end = p + 2 + m[p + 1];
            for (var c = p + 2; c < end; c += 2 + m[c + 1])
            {
                if (m[c] != (byte)CapabilityCode.GracefulRestart)
                    continue;
                for (var t = c + 4; t + 4 <= c + 2 + m[c + 1]; t += 4)
                    m[t + 3] = forwarding ? (byte)0x80 : (byte)0;
            }
            p = end;
        }
        return m;
    }

    private static async Task<ScriptedPeer> AcceptAndOpenAsync(System.Net.Sockets.Socket listener, CapabilitySet caps, bool forwarding)
    {
        var remote = await ScriptedPeer.AcceptAsync(listener);
        await remote.ReadUntilAsync(MessageType.Open);
        await remote.SendAsync(w => w.Write(OpenBytes(caps, forwarding)));
        await remote.SendKeepaliveAsync();
        await remote.ReadUntilAsync(MessageType.Keepalive);
        return remote;
    }

    private static BgpProtocol Protocol(RoutingTable table, System.Net.Sockets.Socket listener, string address) =>
        new(LoopbackOptions.For("gr_" + address.Replace('.', '_'), address, listener) with
        {
            ImportFilter = RouteFilter.AcceptAll,
            ExportFilter = RouteFilter.RejectAll,
            GracefulRestart = true,
            ErrorWaitMin = 1,
            ErrorWaitMax = 1,
            HoldTime = 240,
        }, table, TimeProvider.System, NullLoggerFactory.Instance, null);

    private static Task AnnounceAsync(ScriptedPeer peer, string nextHop, params string[] prefixes)
    {
        var attrs = AttributeEncoder.Encode(new PathAttributes { Origin = BgpOrigin.Igp, AsPath = AsPath.FromSequence(64513), NextHop = IpAddr.Parse(nextHop) }, PeerCodec, true);
        return peer.SendAsync(w => UpdateWriter.WriteAnnouncements(w, PeerCodec, attrs, [.. prefixes.Select(p => new Nlri(Prefix.Parse(p)))], false));
    }

    private static Task SendEndOfRibAsync(ScriptedPeer peer) =>
        peer.SendAsync(w => w.Write(Convert.FromHexString("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF001702" + "00000000")));

    private static Route? Of(RoutingTable table, Protocol from, string prefix) =>
        table.Find(Prefix.Parse(prefix))?.Routes.FirstOrDefault(r => ReferenceEquals(r.Protocol, from));

    [Fact]
    public async Task A_restart_aware_peer_without_families_loses_its_routes_at_once()
    {
        var table = new RoutingTable();
        using var l = ScriptedPeer.Listen("127.0.4.1");
        var bgp = Protocol(table, l, "127.0.4.1");
        await bgp.StartAsync(CancellationToken.None);
        try
        {
            var remote = await AcceptAndOpenAsync(l, PeerCaps(listIpv4: false), forwarding: false);
            await AnnounceAsync(remote, "127.0.4.1", "10.80.1.0/24", "10.80.2.0/24");
            await Wait.UntilAsync(() => Of(table, bgp, "10.80.2.0/24") is not null, Timeout, "routes from the peer");
            Assert.Contains("restart-aware", bgp.Snapshot().NeighborCapabilities, StringComparison.Ordinal);

            await remote.DisposeAsync();
            await Wait.UntilAsync(() => bgp.State != ProtocolState.Up, Timeout, "session down");
            // As BIRD, the protocol leaves up first and then flushes its routes.
            await Wait.UntilAsync(() => Of(table, bgp, "10.80.1.0/24") is null && Of(table, bgp, "10.80.2.0/24") is null && bgp.Stats.Imported == 0, Timeout, "the routes flushed");
            Assert.False(bgp.Snapshot().NeighborGracefulRestartActive);
            Assert.Equal(0, bgp.Stats.Imported);
        }
        finally
        {
            await bgp.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Listed_family_stays_stale_until_end_of_rib_then_only_what_was_not_sent_again_goes()
    {
        var table = new RoutingTable();
        using var l = ScriptedPeer.Listen("127.0.4.2");
        var bgp = Protocol(table, l, "127.0.4.2");
        await bgp.StartAsync(CancellationToken.None);
        try
        {
            var remote = await AcceptAndOpenAsync(l, PeerCaps(listIpv4: true), forwarding: true);
            await AnnounceAsync(remote, "127.0.4.2", "10.81.1.0/24", "10.81.2.0/24");
            await Wait.UntilAsync(() => Of(table, bgp, "10.81.2.0/24") is not null, Timeout, "routes from the peer");
            Assert.Contains("restart-able", bgp.Snapshot().NeighborCapabilities, StringComparison.Ordinal);

            // The peer crashes: both routes stay, stale; the snapshot says the neighbour restarts.
            await remote.DisposeAsync();
            await Wait.UntilAsync(() => Of(table, bgp, "10.81.1.0/24")?.Stale == true, Timeout, "routes marked stale");
            Assert.True(Of(table, bgp, "10.81.2.0/24")!.Stale);
            var snap = bgp.Snapshot();
            Assert.True(snap.NeighborGracefulRestartActive);
            Assert.InRange(snap.RestartTimerRemaining ?? 0, 100, 120);
            Assert.Equal(2, bgp.Stats.Imported);

            // It comes back (F bit set), sends one of the two again, then End-of-RIB.
            var again = await AcceptAndOpenAsync(l, PeerCaps(listIpv4: true), forwarding: true);
            await AnnounceAsync(again, "127.0.4.2", "10.81.1.0/24");
            await Wait.UntilAsync(() => Of(table, bgp, "10.81.1.0/24")?.Stale == false, Timeout, "10.81.1.0/24 fresh again");
            Assert.True(Of(table, bgp, "10.81.2.0/24")!.Stale);
            await SendEndOfRibAsync(again);
            // The counter drops just after the table's withdrawal, on the session's thread: wait for both.
            await Wait.UntilAsync(() => Of(table, bgp, "10.81.2.0/24") is null && bgp.Stats.Imported == 1, Timeout, "10.81.2.0/24 removed at End-of-RIB");
            Assert.False(Of(table, bgp, "10.81.1.0/24")!.Stale);
            Assert.False(bgp.Snapshot().NeighborGracefulRestartActive);
            Assert.Equal(1, bgp.Stats.Imported);
            Assert.True(bgp.ReceivedEndOfRib);
            Assert.Equal(2, bgp.Messages.EstablishedTransitions);
            await again.DisposeAsync();
        }
        finally
        {
            await bgp.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Forwarding_state_lost_over_the_restart_removes_the_stale_routes_at_once()
    {
        var table = new RoutingTable();
        using var l = ScriptedPeer.Listen("127.0.4.3");
        var bgp = Protocol(table, l, "127.0.4.3");
        await bgp.StartAsync(CancellationToken.None);
        try
        {
            var remote = await AcceptAndOpenAsync(l, PeerCaps(listIpv4: true), forwarding: true);
            await AnnounceAsync(remote, "127.0.4.3", "10.82.1.0/24");
            await Wait.UntilAsync(() => Of(table, bgp, "10.82.1.0/24") is not null, Timeout, "route from the peer");
            await remote.DisposeAsync();
            await Wait.UntilAsync(() => Of(table, bgp, "10.82.1.0/24")?.Stale == true, Timeout, "route marked stale");

            // RFC 4724 §4.2: the family comes back without the forwarding-state bit: no End-of-RIB is awaited.
            var again = await AcceptAndOpenAsync(l, PeerCaps(listIpv4: true), forwarding: false);
            await Wait.UntilAsync(() => Of(table, bgp, "10.82.1.0/24") is null && bgp.Stats.Imported == 0, Timeout, "stale route removed on re-establishment");
            Assert.False(bgp.Snapshot().NeighborGracefulRestartActive);
            Assert.Equal(0, bgp.Stats.Imported);
            await again.DisposeAsync();
        }
        finally
        {
            await bgp.StopAsync(CancellationToken.None);
        }
    }
}
