using Calico.Bgp.Rib;

namespace Calico.Bgp.Rib.Tests;

/// <summary>A protocol that owns routes and nothing else, for table tests.</summary>
internal sealed class TestProtocol(string name, RoutingTable table, int preference = 100, BgpPeerIdentity? peer = null)
    : Protocol(name, table, TimeProvider.System, preference)
{
    public override string TypeName => peer is null ? "Static" : "BGP";
    public override BgpPeerIdentity? BgpPeer => peer;
    public override Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public override Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
