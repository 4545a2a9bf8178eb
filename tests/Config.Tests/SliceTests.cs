using Calico.Bgp.Rib;

namespace Calico.Bgp.Config.Tests;

/// <summary>The first slice the daemon needs: router id, kernel, device, static, bgp, comments.</summary>
public class SliceTests
{
    private const string Text = """
        # comment
        router id 192.0.2.1; /* block
        comment */
        protocol kernel { learn; persist; scan time 10; import all; export all; }
        protocol device { scan time 5; }
        protocol static { route 10.0.0.0/24 blackhole; route 10.1.0.0/24 via 192.0.2.9; route 10.2.0.0/24 unreachable; route 10.3.0.0/24 prohibit; }
        protocol bgp peer1 {
          local as 65000;
          neighbor 192.0.2.2 as 65001;
          source address 192.0.2.1;
          import all;
          export all;
        }
        protocol bgp { local 192.0.2.1 as 65000; neighbor 192.0.2.3 port 1179 as 65000; }
        """;

    [Fact]
    public void Parses_the_minimal_daemon_config()
    {
        var c = ConfigLoader.Parse(Text, "test.cfg");
        Assert.Equal(0xC0000201u, c.RouterId);
        Assert.Equal(["kernel1", "device1", "static1", "peer1", "bgp1"], c.Protocols.Select(p => p.Name));
        var k = Assert.IsType<KernelProtocolConfig>(c.Protocols[0]);
        Assert.True(k.Learn && k.Persist);
        Assert.Equal(10, k.ScanTime);
        Assert.Same(RouteFilter.AcceptAll, k.ExportFilter);
        Assert.Equal(5, Assert.IsType<DeviceProtocolConfig>(c.Protocols[1]).ScanTime);
        var s = Assert.IsType<StaticProtocolConfig>(c.Protocols[2]);
        Assert.Equal(
            [
                new StaticRouteConfig(Prefix.Parse("10.0.0.0/24"), RouteDest.Blackhole, null),
                new StaticRouteConfig(Prefix.Parse("10.1.0.0/24"), RouteDest.Router, IpAddr.Parse("192.0.2.9")),
                new StaticRouteConfig(Prefix.Parse("10.2.0.0/24"), RouteDest.Unreachable, null),
                new StaticRouteConfig(Prefix.Parse("10.3.0.0/24"), RouteDest.Prohibit, null),
            ],
            s.Routes);
        var b = Assert.IsType<BgpProtocolConfig>(c.Protocols[3]);
        Assert.Equal((65000u, 65001u), (b.LocalAs, b.NeighborAs));
        Assert.Equal(IpAddr.Parse("192.0.2.2"), b.NeighborAddress);
        Assert.Equal(IpAddr.Parse("192.0.2.1"), b.SourceAddress);
        Assert.Equal(179, b.NeighborPort);
        Assert.False(b.IsInternal);
        Assert.Equal("ACCEPT", b.ExportFilterName);
        var b2 = Assert.IsType<BgpProtocolConfig>(c.Protocols[4]);
        Assert.Equal(IpAddr.Parse("192.0.2.1"), b2.LocalAddress);
        Assert.Equal(1179, b2.NeighborPort);
        Assert.True(b2.IsInternal);
    }

    [Fact]
    public void Defaults_follow_bird()
    {
        var c = ConfigLoader.Parse("protocol kernel {} protocol bgp x { local as 1; neighbor 192.0.2.2 as 2; }", "d.cfg");
        var k = Assert.IsType<KernelProtocolConfig>(c.Protocols[0]);
        Assert.Equal((60, 254, false, false), (k.ScanTime, k.KernelTable, k.Learn, k.Persist));
        Assert.Equal(("ACCEPT", "REJECT"), (k.ImportFilterName, k.ExportFilterName));
        var b = Assert.IsType<BgpProtocolConfig>(c.Protocols[1]);
        Assert.Equal((5, 120, 60, 300), (b.ConnectDelayTime, b.ConnectRetryTime, b.ErrorWaitMin, b.ErrorWaitMax));
        Assert.Equal(AddPathMode.None, b.AddPaths);
        Assert.Null(c.ListenBgp);
    }

    [Fact]
    public void Changed_protocol_compares_unequal_and_moved_one_equal()
    {
        var a = ConfigLoader.Parse("protocol device { scan time 2; }\nprotocol kernel { export filter { accept; }; }", "a.cfg");
        var b = ConfigLoader.Parse("\n\nprotocol device { scan time 3; }\nprotocol kernel { export filter {\n accept; }; }", "a.cfg");
        Assert.NotEqual(a.Protocols[0], b.Protocols[0]);
        Assert.Equal(a.Protocols[1], b.Protocols[1]);
        var c = ConfigLoader.Parse("protocol device { scan time 2; }\nprotocol kernel { export filter { reject; }; }", "a.cfg");
        Assert.NotEqual(a.Protocols[1], c.Protocols[1]);
    }

    [Fact]
    public void Template_options_are_inherited_and_overridden()
    {
        var c = ConfigLoader.Parse("""
            template bgp t { local as 64512; passive on; multihop 2; hold time 9; }
            protocol bgp p from t { neighbor 192.0.2.2 as 64512; passive off; }
            """, "t.cfg");
        var p = Assert.IsType<BgpProtocolConfig>(Assert.Single(c.Protocols));
        Assert.Equal((64512u, false, true, 2, 9), (p.LocalAs, p.Passive, p.Multihop, p.MultihopTtl, p.HoldTime));
        Assert.Equal("t", p.TemplateName);
    }

    [Fact]
    public void Include_is_relative_to_the_including_file()
    {
        var dir = Directory.CreateTempSubdirectory("cfgtest");
        try
        {
            Directory.CreateDirectory(Path.Combine(dir.FullName, "sub"));
            File.WriteAllText(Path.Combine(dir.FullName, "main.cfg"), "include \"sub/a.cfg\";\nrouter id 1.2.3.4;\n");
            File.WriteAllText(Path.Combine(dir.FullName, "sub", "a.cfg"), "include \"b.cfg\";\n");
            File.WriteAllText(Path.Combine(dir.FullName, "sub", "b.cfg"), "protocol device {}\n");
            var c = ConfigLoader.Load(Path.Combine(dir.FullName, "main.cfg"));
            Assert.Equal(3, c.Files.Count);
            Assert.Equal(Path.Combine(dir.FullName, "sub", "b.cfg"), c.Files[2]);
            Assert.Equal("device1", Assert.Single(c.Protocols).Name);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
