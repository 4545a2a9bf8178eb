using System.Buffers;
using System.Net;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Export;
using Calico.Bgp.Speaker.Wire;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>
/// A reload that changes only a session's filters: the session stays up, the import side re-runs
/// over the Adj-RIB-In, the export side moves to another update group and sends the difference.
/// Scripted peers on loopback addresses 127.0.1.x.
/// </summary>
public class ReconfigureTests
{
    /// <summary>A filter by prefix: accepts what <paramref name="accept"/> says (compares by instance, as a changed filter does).</summary>
    private sealed class PrefixFilter(Func<Prefix, bool> accept) : RouteFilter
    {
        public override string Name => "test";
        public override Route? Apply(Route route, AttributeCache cache) => accept(route.Prefix) ? route : null;
    }

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private static readonly BgpCodec PeerCodec = new(true, false, AddPathMode.None, AddPathMode.None);

    private sealed class Session : IAsyncDisposable
    {
        public required BgpProtocol Protocol { get; init; }
        public required ScriptedPeer Remote { get; init; }
        public required System.Net.Sockets.Socket Listener { get; init; }

        public async ValueTask DisposeAsync()
        {
            await Protocol.StopAsync(CancellationToken.None);
            await Remote.DisposeAsync();
            Listener.Dispose();
        }
    }

    private static async Task<Session> StartAsync(RoutingTable table, UpdateGroupRegistry registry, string address, RouteFilter import, RouteFilter export)
    {
        var l = ScriptedPeer.Listen(address);
        var bgp = new BgpProtocol(new BgpProtocolOptions
        {
            Name = "peer_" + address.Replace('.', '_'),
            RouterId = 0x0A000001,
            LocalAs = 64512,
            PeerAs = 64513,
            NeighborAddress = IpAddr.Parse(address),
            NeighborPort = ((IPEndPoint)l.LocalEndPoint!).Port,
            SourceAddress = IpAddr.Parse("127.0.0.1"),
            ImportFilter = import,
            ExportFilter = export,
            ConnectDelayTime = 0,
        }, table, TimeProvider.System, NullLoggerFactory.Instance, null, registry);
        await bgp.StartAsync(CancellationToken.None);
        var remote = await ScriptedPeer.AcceptAsync(l);
        await remote.HandshakeAsync(64513, 0x0A0000F0u, ScriptedPeer.Caps(asn: 64513));
        Assert.True(ScriptedPeer.IsEndOfRib(await remote.ReadUntilAsync(MessageType.Update)));
        await Wait.UntilAsync(() => bgp.State == ProtocolState.Up, Timeout, "bgp.State == ProtocolState.Up");
        return new Session { Protocol = bgp, Remote = remote, Listener = l };
    }

    private static Task AnnounceAsync(ScriptedPeer peer, string nextHop, params string[] prefixes)
    {
        var attrs = AttributeEncoder.Encode(new PathAttributes { Origin = BgpOrigin.Igp, AsPath = AsPath.FromSequence(64513), NextHop = IpAddr.Parse(nextHop) }, PeerCodec, true);
        return peer.SendAsync(w => UpdateWriter.WriteAnnouncements(w, PeerCodec, attrs, [.. prefixes.Select(p => new Nlri(Prefix.Parse(p)))], false));
    }

    private static bool Has(RoutingTable table, Protocol from, string prefix) =>
        table.Find(Prefix.Parse(prefix))?.Routes.Any(r => ReferenceEquals(r.Protocol, from)) == true;

    private static async Task ReadUntilAsync(ScriptedPeer peer, HashSet<Nlri> paths, HashSet<Nlri> expected)
    {
        while (!paths.SetEquals(expected))
            ScriptedPeer.Apply(paths, await peer.ReadUntilAsync(MessageType.Update), false);
    }

    private static HashSet<Nlri> Nlris(IEnumerable<int> thirdOctets) => [.. thirdOctets.Select(i => new Nlri(Prefix.Parse($"10.60.{i}.0/24")))];

    [Fact]
    public async Task A_new_import_filter_re_evaluates_the_adj_rib_in_without_the_peer()
    {
        var table = new RoutingTable();
        await using var s = await StartAsync(table, new UpdateGroupRegistry(), "127.0.1.2", RouteFilter.AcceptAll, RouteFilter.RejectAll);
        await AnnounceAsync(s.Remote, "127.0.1.2", "10.70.1.0/24", "10.70.2.0/24");
        await Wait.UntilAsync(() => Has(table, s.Protocol, "10.70.1.0/24") && Has(table, s.Protocol, "10.70.2.0/24"), Timeout, "Has(table, s.Protocol, '10.70.1.0/24') && Has(table, s.Protocol, '10.70.2.0/24')");
        var since = s.Protocol.StateSince;
        Assert.Equal(2, s.Protocol.AdjRibIn.Count);
        // `import all`: the table's routes are the Adj-RIB-In; nothing is stored twice.
        Assert.True(s.Protocol.AdjRibIn.IsMirrored);

        var outcome = s.Protocol.Reconfigure(new PrefixFilter(p => p != Prefix.Parse("10.70.2.0/24")), RouteFilter.RejectAll, null);
        Assert.False(s.Protocol.AdjRibIn.IsMirrored);

        Assert.Equal(ReconfigureOutcome.Import, outcome);
        Assert.True(Has(table, s.Protocol, "10.70.1.0/24"));
        Assert.False(Has(table, s.Protocol, "10.70.2.0/24"));
        Assert.Equal(1, s.Protocol.Stats.Imported);
        // Kept before policy: the rejected path is still there for the next filter.
        Assert.Equal(2, s.Protocol.AdjRibIn.Count);

        s.Protocol.Reconfigure(RouteFilter.AcceptAll, RouteFilter.RejectAll, null);
        Assert.True(Has(table, s.Protocol, "10.70.2.0/24"));
        Assert.Equal(2, s.Protocol.Stats.Imported);
        Assert.True(s.Protocol.AdjRibIn.IsMirrored);
        Assert.Equal(2, s.Protocol.AdjRibIn.Count);
        Assert.Equal(ProtocolState.Up, s.Protocol.State);
        Assert.Equal(since, s.Protocol.StateSince);
    }

    [Fact]
    public async Task An_equal_filter_keeps_the_running_instance_and_re_runs_nothing()
    {
        var table = new RoutingTable();
        await using var s = await StartAsync(table, new UpdateGroupRegistry(), "127.0.1.3", RouteFilter.AcceptAll, RouteFilter.AcceptAll);
        var outcome = s.Protocol.Reconfigure(RouteFilter.AcceptAll, RouteFilter.AcceptAll, "new description");
        Assert.Equal(ReconfigureOutcome.None, outcome);
        Assert.Equal("new description", s.Protocol.Options.Description);
    }

    [Fact]
    public async Task A_new_export_filter_moves_the_peer_to_another_group_and_sends_only_the_difference()
    {
        var table = new RoutingTable();
        var stat = new TestStatic(table);
        var registry = new UpdateGroupRegistry();
        await using var a = await StartAsync(table, registry, "127.0.1.4", RouteFilter.AcceptAll, RouteFilter.AcceptAll);
        await using var b = await StartAsync(table, registry, "127.0.1.5", RouteFilter.AcceptAll, RouteFilter.AcceptAll);
        Assert.Equal(1, registry.GroupCount);
        for (var i = 0; i < 10; i++)
            stat.AddBlackhole($"10.60.{i}.0/24");
        var all = Nlris(Enumerable.Range(0, 10));
        var atA = new HashSet<Nlri>();
        var atB = new HashSet<Nlri>();
        await ReadUntilAsync(a.Remote, atA, all);
        await ReadUntilAsync(b.Remote, atB, all);
        var sinceB = b.Protocol.StateSince;

        var even = new PrefixFilter(p => p.ToString().Split('.')[2] is var o && int.Parse(o) % 2 == 0);
        Assert.Equal(ReconfigureOutcome.Export, b.Protocol.Reconfigure(RouteFilter.AcceptAll, even, null));
        Assert.Equal(2, registry.GroupCount);
        await ReadUntilAsync(b.Remote, atB, Nlris(Enumerable.Range(0, 10).Where(i => i % 2 == 0)));
        await Wait.UntilAsync(() => b.Protocol.Stats.Exported == 5, Timeout, "b.Protocol.Stats.Exported == 5");

        // A change after the move reaches the peer through its new group.
        stat.AddBlackhole("10.60.12.0/24");
        stat.AddBlackhole("10.60.13.0/24");
        await ReadUntilAsync(b.Remote, atB, Nlris([0, 2, 4, 6, 8, 12]));

        // Back to the other peer's filter instance: the same group again, and everything back.
        b.Protocol.Reconfigure(RouteFilter.AcceptAll, RouteFilter.AcceptAll, null);
        Assert.Equal(1, registry.GroupCount);
        await ReadUntilAsync(b.Remote, atB, [.. all, .. Nlris([12, 13])]);
        await Wait.UntilAsync(() => b.Protocol.Stats.Exported == 12, Timeout, "b.Protocol.Stats.Exported == 12");

        // The other peer saw only the two additions, and neither session was reset.
        await ReadUntilAsync(a.Remote, atA, [.. all, .. Nlris([12, 13])]);
        Assert.Equal(12, a.Protocol.Stats.Exported);
        Assert.Equal(sinceB, b.Protocol.StateSince);
        Assert.Equal(ProtocolState.Up, b.Protocol.State);
    }

    [Fact]
    public async Task Routes_of_a_closed_session_do_not_come_back_with_a_new_import_filter()
    {
        var table = new RoutingTable();
        await using var s = await StartAsync(table, new UpdateGroupRegistry(), "127.0.1.6", RouteFilter.AcceptAll, RouteFilter.RejectAll);
        await AnnounceAsync(s.Remote, "127.0.1.6", "10.71.1.0/24");
        await Wait.UntilAsync(() => Has(table, s.Protocol, "10.71.1.0/24"), Timeout, "Has(table, s.Protocol, '10.71.1.0/24')");
        await s.Remote.DisposeAsync();
        await Wait.UntilAsync(() => !Has(table, s.Protocol, "10.71.1.0/24"), Timeout, "!Has(table, s.Protocol, '10.71.1.0/24')");
        Assert.Equal(0, s.Protocol.AdjRibIn.Count);
        s.Protocol.Reconfigure(new PrefixFilter(_ => true), RouteFilter.RejectAll, null);
        Assert.False(Has(table, s.Protocol, "10.71.1.0/24"));
    }
}
