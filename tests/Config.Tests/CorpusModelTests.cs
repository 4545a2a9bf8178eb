using Calico.Bgp.Config.Filters;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Config.Tests;

public class CorpusModelTests
{
    private static BirdConfig Load(string relative, bool ipv6 = false) =>
        ConfigLoader.Load(Corpus.Path_(relative), new ConfigLoadOptions { Ipv6 = ipv6 });

    [Fact]
    public void Mesh_ipip_always_has_the_expected_protocols_and_template_inheritance()
    {
        var c = Load("mesh/ipip-always/bird.cfg");
        Assert.Equal(IpAddr.Parse("10.192.0.2").V4, c.RouterId);
        // bird_aggr.cfg (included first) holds the static protocol, so it comes first in file order.
        Assert.Equal(
            ["static1", "kernel1", "device1", "direct1", "Mesh_10_192_0_3", "Mesh_10_192_0_4"],
            c.Protocols.Select(p => p.Name));
        Assert.Equal(3, c.Files.Count);
        Assert.EndsWith("bird_aggr.cfg", c.Files[1]);

        var kernel = Assert.IsType<KernelProtocolConfig>(c.FindProtocol("kernel1"));
        Assert.True(kernel.Learn && kernel.Persist && kernel.GracefulRestart && kernel.MergePaths);
        Assert.Equal(2, kernel.ScanTime);
        Assert.Equal("kernel_template", kernel.TemplateName);
        Assert.Equal("ACCEPT", kernel.ImportFilterName);
        Assert.Equal("calico_kernel_programming", kernel.ExportFilterName);

        var device = Assert.IsType<DeviceProtocolConfig>(c.FindProtocol("device1"));
        Assert.Equal(2, device.ScanTime);
        Assert.Equal(DebugFlags.States, device.Debug);

        var direct = Assert.IsType<DirectProtocolConfig>(c.FindProtocol("direct1"));
        Assert.Equal([new(true, "cali*"), new(true, "kube-ipvs*"), new(false, "*")], direct.Interfaces.ToArray());

        var stat = Assert.IsType<StaticProtocolConfig>(c.FindProtocol("static1"));
        Assert.Contains(new StaticRouteConfig(Prefix.Parse("192.168.221.192/26"), RouteDest.Blackhole, null), stat.Routes);

        var bgp = Assert.IsType<BgpProtocolConfig>(c.FindProtocol("Mesh_10_192_0_3"));
        Assert.Equal("bgp_template", bgp.TemplateName);
        Assert.Equal(64512u, bgp.LocalAs);
        Assert.Equal(64512u, bgp.NeighborAs);
        Assert.Equal(IpAddr.Parse("10.192.0.3"), bgp.NeighborAddress);
        Assert.Equal(IpAddr.Parse("10.192.0.2"), bgp.SourceAddress);
        Assert.Equal(GatewayMode.Recursive, bgp.Gateway);
        Assert.Equal(AddPathMode.Both, bgp.AddPaths);
        Assert.True(bgp.GracefulRestart);
        Assert.Equal((2, 5, 5, 30), (bgp.ConnectDelayTime, bgp.ConnectRetryTime, bgp.ErrorWaitMin, bgp.ErrorWaitMax));
        Assert.Equal("Connection to BGP peer", bgp.Description);
        Assert.Equal(DebugFlags.States | DebugFlags.Routes | DebugFlags.Filters | DebugFlags.Events, bgp.Debug);
        Assert.True(bgp.Multihop);
        Assert.Null(bgp.MultihopTtl);
        Assert.False(bgp.TtlSecurity);
        Assert.True(bgp.Passive);
        Assert.Equal(CompiledFilter.UnnamedDisplayName, bgp.ImportFilterName);
        Assert.Equal(CompiledFilter.UnnamedDisplayName, bgp.ExportFilterName);

        Assert.Contains("calico_kernel_programming", c.Filters.Keys);
        Assert.Contains("calico_export_to_bgp_peers", c.Functions.Keys);
        Assert.Equal([new FunctionParameter("bool", "internal_peer")], c.Functions["calico_export_to_bgp_peers"].Parameters);
    }

    [Fact]
    public void Explicit_peering_reads_listen_address_and_ports()
    {
        var c = Load("explicit_peering/global/bird.cfg");
        Assert.Equal(new ListenBgpConfig(IpAddr.Parse("10.192.0.2"), 150), c.ListenBgp);
        var peer = Assert.IsType<BgpProtocolConfig>(c.FindProtocol("Global_10_192_0_1_port_166"));
        Assert.Equal(166, peer.NeighborPort);
        Assert.Equal(64567u, peer.NeighborAs);
    }

    [Fact]
    public void Route_reflector_and_password_options()
    {
        var rr = Assert.IsType<BgpProtocolConfig>(Load("explicit_peering/route_reflector/bird.cfg").Protocols.First(p => p is BgpProtocolConfig { RrClient: true }));
        Assert.Equal(IpAddr.Parse("10.0.0.1").V4, rr.RrClusterId);
        var pw = Assert.IsType<BgpProtocolConfig>(Load("mesh/password/step2/bird.cfg").FindProtocol("Mesh_10_192_0_3"));
        Assert.Equal("password-a", pw.Password);
    }

    [Fact]
    public void Bird6_uses_ipv6_neighbors_and_an_ipv4_router_id()
    {
        var c = Load("mesh/ipip-always/bird6.cfg", ipv6: true);
        Assert.Equal(IpAddr.Parse("10.192.0.2").V4, c.RouterId);
        Assert.All(c.Protocols.OfType<BgpProtocolConfig>(), b => Assert.True(b.NeighborAddress.IsV6));
    }

    [Fact]
    public void Loading_the_same_file_twice_gives_equal_protocols()
    {
        var a = Load("mesh/ipip-always/bird.cfg");
        var b = Load("mesh/ipip-always/bird.cfg");
        Assert.Equal(a.Protocols, b.Protocols);
        Assert.NotSame(a.Protocols[0], b.Protocols[0]);
    }

    [Fact]
    public void V328_layout_without_templates_loads()
    {
        var c = Load("releases/v3.28.0/mesh/ipip-cross-subnet/bird.cfg");
        var kernel = Assert.IsType<KernelProtocolConfig>(c.FindProtocol("kernel1"));
        Assert.Null(kernel.TemplateName);
        Assert.Equal("ACCEPT", c.Protocols.OfType<BgpProtocolConfig>().First().ImportFilterName);
    }
}
