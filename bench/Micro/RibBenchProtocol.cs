using Calico.Bgp.Rib;

namespace Calico.Bgp.Benchmarks;

/// <summary>A BGP-looking protocol that only owns routes, for the RIB benchmarks.</summary>
internal sealed class RibBenchProtocol(string name, RoutingTable table, uint routerId)
    : Protocol(name, table, TimeProvider.System, 100)
{
    private readonly BgpPeerIdentity _peer = new(IpAddr.FromV4(0x0A000000u + routerId), routerId, false);

    public override string TypeName => "BGP";
    public override BgpPeerIdentity? BgpPeer => _peer;
    public override Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public override Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The i-th /24 of 10.0.0.0/8 and onwards: a million distinct IPv4 prefixes.</summary>
    public static Prefix PrefixAt(int i) => new(IpAddr.FromV4(0x0A000000u + ((uint)i << 8)), 24);

    /// <summary>An attribute set as an iBGP mesh peer sends it (shared by all its routes).</summary>
    public static PathAttributes Attributes(uint localPref = 100) => new()
    {
        Source = RouteSource.Bgp,
        Origin = BgpOrigin.Igp,
        AsPath = AsPath.Empty,
        NextHop = IpAddr.Parse("172.16.0.2"),
        LocalPref = localPref,
    };
}
