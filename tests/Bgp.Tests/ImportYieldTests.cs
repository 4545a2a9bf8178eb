using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>
/// An importer lets the table's journal readers run after each <see cref="RoutingTable.YieldLag"/> routes
/// of its peer's while they are behind (<see cref="RoutingTable.ReadersBehind"/>), and never waits for
/// them before the cork: against a scripted neighbour over loopback 127.0.11.x.
/// </summary>
public class ImportYieldTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private static readonly BgpCodec PeerCodec = new(true, false, AddPathMode.None, AddPathMode.None);
    private const uint PeerAs = 64513;
    private const int PerUpdate = 900;

    /// <summary><paramref name="updates"/> UPDATEs of <see cref="PerUpdate"/> /24s each, from 10.64.0.0/24 on, in one write.</summary>
    private static Task AnnounceAsync(ScriptedPeer peer, int updates)
    {
        var attrs = AttributeEncoder.Encode(new PathAttributes { Origin = BgpOrigin.Igp, AsPath = AsPath.FromSequence(PeerAs), NextHop = IpAddr.Parse("127.0.11.1") }, PeerCodec, true);
        return peer.SendAsync(w =>
        {
            for (var u = 0; u < updates; u++)
            {
                var nlri = new Nlri[PerUpdate];
                for (var i = 0; i < PerUpdate; i++)
                    nlri[i] = new Nlri(Prefix.FromV4(0x0A40_0000u + ((uint)(u * PerUpdate + i) << 8), 24));
                UpdateWriter.WriteAnnouncements(w, PeerCodec, attrs, nlri, false);
            }
        });
    }

    [Fact]
    public async Task A_reader_past_the_yield_mark_that_never_reads_holds_no_import_up()
    {
        var table = new RoutingTable();
        // An update group whose peer's socket is full: subscribed, resynced, then reads nothing.
        using var stuck = table.SubscribeJournal("stuck");
        stuck.Resync([]);
        using var l = ScriptedPeer.Listen("127.0.11.1");
        var bgp = new BgpProtocol(LoopbackOptions.For("yield", "127.0.11.1", l), table, TimeProvider.System, new CapturingLoggers(), null);
        await bgp.StartAsync(CancellationToken.None);
        try
        {
            await using var peer = await ScriptedPeer.AcceptAsync(l);
            await peer.HandshakeAsync(PeerAs, 0x0A0000F0, ScriptedPeer.Caps(asn: PeerAs));
            // Six UPDATEs in one write, so the session reads them back to back: it has sent more than
            // the mark's worth of routes after the third and again after the sixth, and yields there;
            // it never waits (the cork is at 49,152).
            const int updates = 6;
            await AnnounceAsync(peer, updates);
            await Wait.UntilAsync(() => bgp.Stats.Imported == updates * PerUpdate, Timeout, "every route imported");
            Assert.Equal(updates * PerUpdate, bgp.Stats.ImportUpdatesAccepted);
            Assert.Equal(updates * PerUpdate, table.PrefixCount);
            Assert.True(stuck.Lag > RoutingTable.YieldLag);
            Assert.True(table.ReadersBehind);
            Assert.False(table.IsCorked);
            Assert.False(stuck.NeedsResync);
        }
        finally
        {
            await bgp.StopAsync(CancellationToken.None);
        }
    }
}
