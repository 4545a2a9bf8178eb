using Calico.Bgp.Rib;

namespace Calico.Bgp.Fib.Tests;

/// <summary>Stands in for a BGP session (or any protocol): owns routes in a table.</summary>
internal sealed class TestProtocol(RoutingTable table, string name = "Mesh_172_16_0_2") : Protocol(name, table, TimeProvider.System, 100)
{
    public override string TypeName => "BGP";
    // A BGP session's identity, so its routes take part in the decision process and merge paths.
    public override BgpPeerIdentity? BgpPeer => TestPeers.For(Name);
    public override Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public override Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Route builders for the kernel tests.</summary>
internal static class TestRoutes
{
    public static Route Bgp(RoutingTable table, Protocol owner, string prefix, string nextHop, string? tunnel = null, uint? metric = null) =>
        Route.Create(Prefix.Parse(prefix), table.Attributes.Intern(new PathAttributes
        {
            Source = RouteSource.Bgp,
            Dest = RouteDest.Router,
            NextHop = IpAddr.Parse(nextHop),
            Gateway = IpAddr.Parse(nextHop),
            KrtTunnel = tunnel,
            KrtMetric = metric,
        }), owner);

    public static Route Of(RoutingTable table, Protocol owner, string prefix, RouteDest dest) =>
        Route.Create(Prefix.Parse(prefix), table.Attributes.Intern(new PathAttributes { Source = RouteSource.Static, Dest = dest }), owner);
}

/// <summary>A stable, distinct iBGP peer identity per protocol name.</summary>
internal static class TestPeers
{
    public static BgpPeerIdentity For(string name)
    {
        var id = (uint)StringComparer.Ordinal.GetHashCode(name) & 0x00FFFFFF;
        return new BgpPeerIdentity(IpAddr.FromV4(0x0A000000 | id), id, false);
    }
}
