using System.Net;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>
/// <c>gateway recursive</c> at the speaker: a received route forwards the way its next hop is reached
/// through the table, from the moment it is imported and again whenever that changes; with
/// <c>gateway direct</c> the next hop stays the gateway. A scripted peer on 127.0.3.x.
/// </summary>
public class RecursiveGatewayTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private static readonly BgpCodec PeerCodec = new(true, false, AddPathMode.None, AddPathMode.None);

    private sealed class Routes(RoutingTable table, string name, int preference) : Protocol(name, table, TimeProvider.System, preference)
    {
        public override string TypeName => "Static";
        public override Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public override Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public void Add(string prefix, PathAttributes a) => Table.Update(Route.Create(Prefix.Parse(prefix), Table.Attributes.Intern(a), this));
        public void Remove(string prefix) => Table.Withdraw(Prefix.Parse(prefix), this);
    }

    private static async Task<(BgpProtocol Bgp, ScriptedPeer Peer, System.Net.Sockets.Socket Listener)> StartAsync(RoutingTable table, string address, bool recursive)
    {
        var listener = ScriptedPeer.Listen(address);
        var bgp = new BgpProtocol(new BgpProtocolOptions
        {
            Name = "peer_" + address.Replace('.', '_'),
            RouterId = 0x0A000001,
            LocalAs = 64512,
            PeerAs = 64512,
            NeighborAddress = IpAddr.Parse(address),
            NeighborPort = ((IPEndPoint)listener.LocalEndPoint!).Port,
            SourceAddress = IpAddr.Parse("127.0.0.1"),
            ImportFilter = RouteFilter.AcceptAll,
            ExportFilter = RouteFilter.RejectAll,
            ConnectDelayTime = 0,
            GatewayRecursive = recursive,
        }, table, TimeProvider.System, NullLoggerFactory.Instance, null);
        await bgp.StartAsync(CancellationToken.None);
        var peer = await ScriptedPeer.AcceptAsync(listener);
        await peer.HandshakeAsync(64512, 0x0A0000F0u, ScriptedPeer.Caps(asn: 64512));
        await Wait.UntilAsync(() => bgp.State == ProtocolState.Up, Timeout, "session up");
        return (bgp, peer, listener);
    }

    private static Task AnnounceAsync(ScriptedPeer peer, string nextHop, string prefix)
    {
        var attrs = AttributeEncoder.Encode(new PathAttributes { Origin = BgpOrigin.Igp, AsPath = AsPath.Empty, NextHop = IpAddr.Parse(nextHop), LocalPref = 100 }, PeerCodec, true);
        return peer.SendAsync(w => UpdateWriter.WriteAnnouncements(w, PeerCodec, attrs, [new Nlri(Prefix.Parse(prefix))], false));
    }

    private static PathAttributes? Attributes(RoutingTable table, string prefix) => table.Find(Prefix.Parse(prefix))?.Best?.Attributes;

    [Fact]
    public async Task Received_routes_forward_as_their_next_hop_resolves_and_follow_it_when_that_changes()
    {
        var table = new RoutingTable();
        var direct = new Routes(table, "direct1", 240);
        var statics = new Routes(table, "static1", 200);
        direct.Add("127.0.3.0/24", new PathAttributes { Source = RouteSource.Device, Dest = RouteDest.Device, Interface = "lo" });
        var (bgp, peer, listener) = await StartAsync(table, "127.0.3.2", recursive: true);
        try
        {
            // A peer on the connected network: its own address on that network's interface, cost 0.
            await AnnounceAsync(peer, "127.0.3.2", "10.50.0.0/24");
            // A next hop behind a router nothing yet leads to (Calico's reachable_by peer before its static route).
            await AnnounceAsync(peer, "10.225.0.4", "10.51.0.0/24");
            await Wait.UntilAsync(() => Attributes(table, "10.51.0.0/24") is not null, Timeout, "both routes imported");
            var near = Attributes(table, "10.50.0.0/24")!;
            Assert.Equal((RouteDest.Router, IpAddr.Parse("127.0.3.2"), "lo", 0u, true, false), (near.Dest, near.Gateway, near.Interface, near.IgpMetric, near.Recursive, near.NextHopUnresolved));
            var far = Attributes(table, "10.51.0.0/24")!;
            Assert.Equal((RouteDest.Unreachable, (IpAddr?)null, true), (far.Dest, far.Gateway, far.NextHopUnresolved));
            Assert.Equal(IpAddr.Parse("10.225.0.4"), far.NextHop);

            // The static route arrives: the route now goes via the router, without a word from the peer.
            statics.Add("10.225.0.4/32", new PathAttributes { Source = RouteSource.Static, Dest = RouteDest.Router, Gateway = IpAddr.Parse("127.0.3.1"), Interface = "lo" });
            await Wait.UntilAsync(() => Attributes(table, "10.51.0.0/24")!.Dest == RouteDest.Router, Timeout, "10.51.0.0/24 resolved through the static route");
            far = Attributes(table, "10.51.0.0/24")!;
            Assert.Equal((IpAddr.Parse("127.0.3.1"), "lo", PathAttributes.IgpMetricUnknown, false), (far.Gateway, far.Interface, far.IgpMetric, far.NextHopUnresolved));
            // The route through the connected network did not change (the same route object).
            Assert.Same(near, Attributes(table, "10.50.0.0/24"));

            // The Adj-RIB-In follows too: a new import filter would see the route as it forwards now.
            Assert.Contains(bgp.AdjRibIn.Snapshot(), p => p.Key.Prefix == Prefix.Parse("10.51.0.0/24") && p.Value.Attributes.Dest == RouteDest.Router);

            // And it goes again.
            statics.Remove("10.225.0.4/32");
            await Wait.UntilAsync(() => Attributes(table, "10.51.0.0/24")!.Dest == RouteDest.Unreachable, Timeout, "10.51.0.0/24 unreachable again");
            Assert.Equal(2, bgp.Stats.Imported);
        }
        finally
        {
            await bgp.StopAsync(CancellationToken.None);
            await peer.DisposeAsync();
            listener.Dispose();
        }
    }

    [Fact]
    public async Task With_gateway_direct_the_next_hop_is_the_gateway_as_received()
    {
        var table = new RoutingTable();
        new Routes(table, "direct1", 240).Add("127.0.3.0/24", new PathAttributes { Source = RouteSource.Device, Dest = RouteDest.Device, Interface = "lo" });
        var (bgp, peer, listener) = await StartAsync(table, "127.0.3.3", recursive: false);
        try
        {
            await AnnounceAsync(peer, "10.225.0.4", "10.52.0.0/24");
            await Wait.UntilAsync(() => Attributes(table, "10.52.0.0/24") is not null, Timeout, "route imported");
            var a = Attributes(table, "10.52.0.0/24")!;
            Assert.Equal((RouteDest.Router, (IpAddr?)IpAddr.Parse("10.225.0.4"), (string?)null, false, false), (a.Dest, a.Gateway, a.Interface, a.Recursive, a.NextHopUnresolved));
            Assert.Equal(0, table.Hosts.Count);
        }
        finally
        {
            await bgp.StopAsync(CancellationToken.None);
            await peer.DisposeAsync();
            listener.Dispose();
        }
    }
}
