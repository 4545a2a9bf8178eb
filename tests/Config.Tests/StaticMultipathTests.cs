using Calico.Bgp.Rib;

namespace Calico.Bgp.Config.Tests;

/// <summary>BIRD 1.6's <c>route P multipath via A [weight N] via B …;</c> and BIRD 2's keyword-less form.</summary>
public class StaticMultipathTests
{
    private static StaticProtocolConfig Static(string body, ConfigLoadOptions? options = null) =>
        ConfigLoader.Parse($"protocol static s {{\n{body}\n}}", "m.cfg", options).Protocols.OfType<StaticProtocolConfig>().Single();

    [Fact]
    public void Multipath_route_keeps_its_next_hops_in_order_with_weights()
    {
        var s = Static("  route 10.70.0.0/24 multipath via 10.0.1.2 weight 3 via 10.0.2.2 via 10.0.3.2 weight 256;");
        var r = Assert.Single(s.Routes);
        Assert.Equal(RouteDest.Multipath, r.Dest);
        Assert.Null(r.Gateway);
        Assert.Equal(
            [new(IpAddr.Parse("10.0.1.2"), 3), new(IpAddr.Parse("10.0.2.2"), 1), new(IpAddr.Parse("10.0.3.2"), 256)],
            (IEnumerable<StaticNextHopConfig>)r.NextHops!);
    }

    [Fact]
    public void Multipath_route_of_one_hop_is_still_multipath()
    {
        var r = Assert.Single(Static("  route 10.70.0.0/24 multipath via 10.0.1.2;").Routes);
        Assert.Equal(RouteDest.Multipath, r.Dest);
        Assert.Equal([new StaticNextHopConfig(IpAddr.Parse("10.0.1.2"))], (IEnumerable<StaticNextHopConfig>)r.NextHops!);
    }

    [Fact]
    public void Bird2_form_without_the_keyword_is_multipath_and_one_via_stays_a_plain_route()
    {
        var s = Static("""
              route 10.70.0.0/24 via 10.0.1.2 via 10.0.2.2 weight 2;
              route 10.71.0.0/24 via 10.0.1.2;
              route 10.72.0.0/24 via 10.0.1.2 weight 4;
            """);
        Assert.Equal(RouteDest.Multipath, s.Routes[0].Dest);
        Assert.Equal([new(IpAddr.Parse("10.0.1.2"), 1), new(IpAddr.Parse("10.0.2.2"), 2)], (IEnumerable<StaticNextHopConfig>)s.Routes[0].NextHops!);
        Assert.Equal(new StaticRouteConfig(Prefix.Parse("10.71.0.0/24"), RouteDest.Router, IpAddr.Parse("10.0.1.2")), s.Routes[1]);
        Assert.Equal(RouteDest.Multipath, s.Routes[2].Dest);
        Assert.Equal([new(IpAddr.Parse("10.0.1.2"), 4)], (IEnumerable<StaticNextHopConfig>)s.Routes[2].NextHops!);
    }

    [Fact]
    public void Ipv6_multipath_route_parses_in_bird6()
    {
        var r = Assert.Single(Static("  route fd00:70::/64 multipath via fd00:1::2 via fd00:2::2 weight 7;", new ConfigLoadOptions { Ipv6 = true }).Routes);
        Assert.Equal(RouteDest.Multipath, r.Dest);
        Assert.Equal([new(IpAddr.Parse("fd00:1::2"), 1), new(IpAddr.Parse("fd00:2::2"), 7)], (IEnumerable<StaticNextHopConfig>)r.NextHops!);
    }

    [Fact]
    public void A_changed_weight_is_a_changed_config()
    {
        // The daemon diffs two loads by value: a reload that changes only a weight must see a change.
        var a = Static("  route 10.70.0.0/24 multipath via 10.0.1.2 via 10.0.2.2;");
        var b = Static("  route 10.70.0.0/24 multipath via 10.0.1.2 via 10.0.2.2 weight 2;");
        var c = Static("  route 10.70.0.0/24 multipath via 10.0.1.2 via 10.0.2.2;");
        Assert.NotEqual(a.Routes, b.Routes);
        Assert.Equal(a.Routes, c.Routes);
    }

    public static TheoryData<string, string> Broken => new()
    {
        { "route 10.70.0.0/24 multipath;", "m.cfg:2:29: expected 'via' (a multipath route needs at least one next hop), found ';'" },
        { "route 10.70.0.0/24 multipath via 10.0.1.2 weight 0;", "m.cfg:2:50: Weight must be in range 1-256" },
        { "route 10.70.0.0/24 multipath via 10.0.1.2 weight 257;", "m.cfg:2:50: Weight must be in range 1-256" },
        { "route 10.70.0.0/24 multipath via 10.0.1.2 weight;", "m.cfg:2:49: expected a weight, found ';'" },
        { "route 10.70.0.0/24 multipath via 10.0.1.2 via 10.0.1.2 weight 2;", "m.cfg:2:47: next hop 10.0.1.2 is given twice" },
        { "route 10.70.0.0/24 multipath via 10.0.1.2 blackhole;", "m.cfg:2:43: expected ';', found 'blackhole'" },
        { "route 10.70.0.0/24 via 10.0.1.2 via;", "m.cfg:2:36: expected a gateway address, found ';'" },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public void Broken_multipath_route_reports_file_line_column(string line, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => Static(line));
        Assert.Equal(expected, e.Message);
    }

    [Fact]
    public void Dual_stack_gateway_of_the_other_family_is_an_error()
    {
        var e = Assert.Throws<ConfigException>(() => Static("route 10.70.0.0/24 multipath via 10.0.1.2 via fd00::2;", new ConfigLoadOptions { DualStack = true }));
        Assert.Equal("m.cfg:2:47: gateway fd00::2 is not of the family of route 10.70.0.0/24", e.Message);
    }
}
