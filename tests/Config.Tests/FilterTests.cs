using Calico.Bgp.Config.Filters;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Config.Tests;

internal sealed class TestProtocol(string name) : Protocol(name, new RoutingTable(), TimeProvider.System, 100)
{
    public override string TypeName => "Test";
    public override Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public override Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

public class FilterTests
{
    private static readonly AttributeCache Cache = new();
    private static readonly BirdConfig Mesh = ConfigLoader.Load(Corpus.Path_("mesh/ipip-always/bird.cfg"));
    private static readonly BirdConfig V332 = ConfigLoader.Load(Corpus.Path_("releases/v3.32.0/mesh/ipip-cross-subnet/bird.cfg"));

    private static Route Static(string prefix) =>
        Route.Create(Prefix.Parse(prefix), new PathAttributes { Source = RouteSource.Static, Dest = RouteDest.Blackhole }, new TestProtocol("static1"), preference: 200);

    private static Route Bgp(string prefix, string nextHop, uint? localPref = 100) =>
        Route.Create(Prefix.Parse(prefix), new PathAttributes
        {
            Source = RouteSource.Bgp,
            Dest = RouteDest.Router,
            Gateway = IpAddr.Parse(nextHop),
            NextHop = IpAddr.Parse(nextHop),
            LocalPref = localPref,
            AsPath = AsPath.Empty,
            Origin = BgpOrigin.Igp,
        }, new TestProtocol("Mesh_10_192_0_3"), preference: 100);

    private static Route Kernel(string prefix, string ifname, uint? metric) =>
        Route.Create(Prefix.Parse(prefix), new PathAttributes { Source = RouteSource.Inherit, Dest = RouteDest.Device, Interface = ifname, KrtMetric = metric },
            new TestProtocol("kernel1"), preference: 10);

    [Fact]
    public void Kernel_programming_sets_metric_from_local_pref_and_rejects_felix_pools()
    {
        var f = Mesh.Filters["calico_kernel_programming"].Filter;
        var r = f.Evaluate(Bgp("10.244.0.0/26", "10.192.0.3"), Cache);
        Assert.True(r.Accepted);
        Assert.Equal(2147483647u - 100, r.Route!.Attributes.KrtMetric);

        var high = f.Evaluate(Bgp("10.244.0.0/26", "10.192.0.3", 2147483547), Cache).Route!;
        Assert.Equal(100u, high.Attributes.KrtMetric);
        Assert.Equal(200, high.Preference);

        var noPref = f.Evaluate(Bgp("10.244.0.0/26", "10.192.0.3", null), Cache).Route!;
        Assert.Equal(1024u, noPref.Attributes.KrtMetric);

        Assert.False(f.Evaluate(Bgp("192.168.3.0/26", "10.192.0.3"), Cache).Accepted);
        Assert.Null(f.Evaluate(Bgp("192.168.3.0/26", "10.192.0.3"), Cache).Error);
        var blackhole = Static("10.96.0.0/24");
        Assert.Same(blackhole, f.Apply(blackhole, Cache));
    }

    [Theory]
    [InlineData("10.192.5.5", "")]
    [InlineData("172.16.0.9", "tunl0")]
    public void Cross_subnet_ipip_sets_krt_tunnel(string nextHop, string tunnel)
    {
        var f = V332.Filters["calico_kernel_programming"].Filter;
        var r = f.Evaluate(Bgp("192.168.3.0/26", nextHop), Cache);
        Assert.True(r.Accepted, r.Error);
        Assert.Equal(tunnel, r.Route!.Attributes.KrtTunnel);
    }

    [Theory]
    [InlineData("192.168.221.192/26", "static", true)]   // own block, exact
    [InlineData("192.168.221.200/32", "kernel", false)]  // workload inside own block: aggregated away
    [InlineData("192.168.221.201/32", "kernel-elevated", true)] // krt_metric < 1024: live migration
    [InlineData("192.168.5.0/26", "bgp", true)]          // another node's block in the pool
    [InlineData("172.30.0.0/24", "static", false)]       // outside every pool
    public void Mesh_export_filter(string prefix, string kind, bool accepted)
    {
        var peer = Assert.IsType<BgpProtocolConfig>(Mesh.FindProtocol("Mesh_10_192_0_3"));
        var route = kind switch
        {
            "static" => Static(prefix),
            "kernel" => Kernel(prefix, "cali1234", 1024),
            "kernel-elevated" => Kernel(prefix, "cali1234", 512),
            _ => Bgp(prefix, "10.192.0.4"),
        };
        var result = ((BgpExportFilter)peer.ExportFilter).Evaluate(route, Cache);
        Assert.Null(result.Error);
        Assert.Equal(accepted, result.Accepted);
        if (accepted && kind == "static")
        {
            // BIRD 1.x: a non-BGP route reads bgp_local_pref as defined; the else branch sets it from krt_metric 1024.
            Assert.Equal(1024u, result.Route!.Attributes.KrtMetric);
            Assert.Equal(2147483647u - 1024, result.Route.Attributes.LocalPref);
        }
        if (accepted && kind == "bgp")
            Assert.Equal(2147483647u - 100, result.Route!.Attributes.KrtMetric);
    }

    [Fact]
    public void Mesh_import_filter_raises_preference_of_elevated_routes()
    {
        var peer = Mesh.FindProtocol("Mesh_10_192_0_3")!;
        Assert.Equal(200, peer.ImportFilter.Apply(Bgp("10.1.1.1/32", "10.192.0.3", 2147483547), Cache)!.Preference);
        Assert.Equal(100, peer.ImportFilter.Apply(Bgp("10.1.1.1/32", "10.192.0.3"), Cache)!.Preference);
    }

    private static CompiledFilter Compile(string body, Action<string>? log = null)
    {
        var c = ConfigLoader.Parse("function f(bool b) { if b then accept; }\nfilter t " + body, "f.cfg", new ConfigLoadOptions { Log = log });
        return c.Filters["t"].Filter;
    }

    [Theory]
    [InlineData("{ if net ~ [ 10.0.0.0/8+ ] then accept; reject; }", "10.1.0.0/16", true)]
    [InlineData("{ if net ~ [ 10.0.0.0/8- ] then accept; reject; }", "10.1.0.0/16", false)]
    [InlineData("{ if net ~ [ 10.0.0.0/8- ] then accept; reject; }", "12.0.0.0/7", false)]
    [InlineData("{ if net ~ [ 10.0.0.0/8- ] then accept; reject; }", "8.0.0.0/6", true)]
    [InlineData("{ if net ~ [ 192.168.0.0/16{24,28} ] then accept; reject; }", "192.168.1.0/24", true)]
    [InlineData("{ if net ~ [ 192.168.0.0/16{24,28} ] then accept; reject; }", "192.168.1.0/30", false)]
    [InlineData("{ if net = 10.0.0.0/8 then accept; reject; }", "10.0.0.0/8", true)]
    [InlineData("{ if net != 10.0.0.0/8 then accept; reject; }", "10.0.0.0/8", false)]
    [InlineData("{ if net !~ 10.0.0.0/8 then accept; reject; }", "11.0.0.0/8", true)]
    [InlineData("{ if source ~ [ RTS_BGP, RTS_STATIC ] then accept; reject; }", "10.0.0.0/8", true)]
    [InlineData("{ if source = RTS_BGP then accept; reject; }", "10.0.0.0/8", false)]
    [InlineData("{ if true || krt_metric > 1 then accept; reject; }", "10.0.0.0/8", true)]
    [InlineData("{ if false && krt_metric > 1 then accept; reject; }", "10.0.0.0/8", false)]
    [InlineData("{ if false && false || true then accept; reject; }", "10.0.0.0/8", true)]
    [InlineData("{ if 2 + 3 * 4 = 14 then accept; reject; }", "10.0.0.0/8", true)]
    [InlineData("{ f(true); reject; }", "10.0.0.0/8", true)]
    [InlineData("{ f(false); reject; }", "10.0.0.0/8", false)]
    [InlineData("{ if proto = \"static1\" && dest = RTD_BLACKHOLE then accept; reject; }", "10.0.0.0/8", true)]
    [InlineData("{ if ifname ~ \"cali*\" then accept; reject; }", "10.0.0.0/8", false)]
    public void Semantics(string body, string prefix, bool accepted)
    {
        var r = Compile(body).Evaluate(Static(prefix), Cache);
        Assert.Null(r.Error);
        Assert.Equal(accepted, r.Accepted);
    }

    [Fact]
    public void Falling_off_the_end_and_undefined_attributes_are_errors()
    {
        var logged = new List<string>();
        var off = Compile("{ if net ~ 1.0.0.0/8 then accept; }", logged.Add);
        Assert.Null(off.Apply(Static("10.0.0.0/8"), Cache));
        Assert.Equal(["Filter t did not return accept nor reject. Make up your mind"], logged);
        var undefined = Compile("{ if krt_metric < 1024 then accept; reject; }").Evaluate(Static("10.0.0.0/8"), Cache);
        Assert.False(undefined.Accepted);
        Assert.Equal("Filter t: attribute krt_metric is undefined", undefined.Error);
    }

    [Fact]
    public void Communities_paths_and_print()
    {
        var logged = new List<string>();
        var f = Compile("""
            {
              bgp_community.add((65000, 100));
              bgp_community.add((65000, 200));
              bgp_community.delete((65000, 200));
              bgp_large_community.add((100, 555, 107));
              bgp_path.prepend(65001);
              if (65000, 100) ~ bgp_community && (100, 555, 107) ~ bgp_large_community && bgp_path ~ [= 65001 * =] then {
                print "ok ", net;
                unset(bgp_med);
                accept;
              }
              reject;
            }
            """, logged.Add);
        var r = f.Evaluate(Bgp("10.0.0.0/8", "10.192.0.3"), Cache);
        Assert.True(r.Accepted, r.Error);
        Assert.Equal([new Community(65000, 100)], r.Route!.Attributes.Communities.ToArray());
        Assert.Equal([new LargeCommunity(100, 555, 107)], r.Route.Attributes.LargeCommunities.ToArray());
        Assert.Equal(AsPath.FromSequence(65001), r.Route.Attributes.AsPath);
        Assert.Equal(["ok 10.0.0.0/8"], logged);
        Assert.Same(r.Route.Attributes, f.Evaluate(Bgp("10.0.0.0/8", "10.192.0.3"), Cache).Route!.Attributes);
    }

    [Fact]
    public void Community_edits_keep_order_and_remove_every_copy()
    {
        var f = Compile("""
            {
              bgp_community.add((65000, 300));
              bgp_community.delete((65000, 100));
              bgp_large_community.add((1, 2, 3));
              bgp_large_community.delete((9, 9, 9));
              accept;
            }
            """);
        // A received list may repeat a community: delete removes every copy, add keeps the order.
        var route = Bgp("10.0.0.0/8", "10.192.0.3");
        route = route.WithAttributes(Cache.Intern(route.Attributes with
        {
            Communities = [new Community(65000, 100), new Community(65000, 7), new Community(65000, 100)],
            LargeCommunities = [new LargeCommunity(9, 9, 9), new LargeCommunity(4, 5, 6), new LargeCommunity(9, 9, 9)],
        }));
        var first = f.Evaluate(route, Cache).Route!.Attributes;
        Assert.Equal([new Community(65000, 7), new Community(65000, 300)], first.Communities.ToArray());
        Assert.Equal([new LargeCommunity(4, 5, 6), new LargeCommunity(1, 2, 3)], first.LargeCommunities.ToArray());
        // The next route with the same attribute set ends with the same interned set (a second run of
        // the edits goes through ListEdits' memo: bench/Micro FilterBenchmarks shows no list allocated).
        var second = f.Evaluate(Route.Create(Prefix.Parse("10.1.0.0/16"), route.Attributes, route.Protocol), Cache).Route!.Attributes;
        Assert.Same(first, second);
        // Adding what is there already changes nothing.
        var again = Compile("{ bgp_community.add((65000, 7)); accept; }").Evaluate(route, Cache).Route!.Attributes;
        Assert.True(again.Communities == route.Attributes.Communities);
    }

    [Theory]
    [InlineData("[= 65000 * =]", new uint[] { 65000, 1, 2 }, true)]
    [InlineData("[= 65000 * =]", new uint[] { 1, 65000 }, false)]
    [InlineData("[= * 65000 =]", new uint[] { 1, 65000 }, true)]
    [InlineData("[= ? 65000 =]", new uint[] { 1, 65000 }, true)]
    [InlineData("[= ? 65000 =]", new uint[] { 1, 2, 65000 }, false)]
    public void As_path_masks(string mask, uint[] path, bool matches)
    {
        var f = Compile("{ if bgp_path ~ " + mask + " then accept; reject; }");
        var route = Bgp("10.0.0.0/8", "10.192.0.3");
        route = route.WithAttributes(route.Attributes with { AsPath = AsPath.FromSequence(path) });
        Assert.Equal(matches, f.Evaluate(route, Cache).Accepted);
    }

    [Fact]
    public void Undefined_community_list_reads_as_empty()
    {
        var r = Compile("{ if (1, 2) ~ bgp_community then reject; accept; }").Evaluate(Static("10.0.0.0/8"), Cache);
        Assert.True(r.Accepted, r.Error);
    }
}
