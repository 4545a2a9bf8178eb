namespace Calico.Bgp.Config.Tests;

/// <summary>Reading one config for both families (the daemon's <c>--dual-stack</c>).</summary>
public class DualStackTests
{
    private static readonly ConfigLoadOptions Dual = new() { DualStack = true };

    private const string Config = """
        router id 10.0.0.1;
        protocol static {
          route 10.60.1.0/26 blackhole;
          route fd00:60:1::/122 blackhole;
          route fd00:61::/64 via fd00::9;
        }
        filter blocks { if net ~ [ 10.60.0.0/16+, fd00:60::/32+ ] then accept; reject; }
        protocol bgp Node_10_0_0_2 { local as 64512; neighbor 10.0.0.2 as 64512; source address 10.0.0.1; }
        protocol bgp Node_fd00__2 { local as 64512; neighbor fd00::2 as 64512; source address fd00::1; }
        """;

    [Fact]
    public void Addresses_of_both_families_are_read_where_one_is_wanted()
    {
        var c = ConfigLoader.Parse(Config, "dual.cfg", Dual);
        Assert.True(c.DualStack);
        Assert.False(c.Ipv6);
        var bgp = c.Protocols.OfType<BgpProtocolConfig>().ToList();
        Assert.False(bgp[0].NeighborAddress.IsV6);
        Assert.True(bgp[1].NeighborAddress.IsV6);
        var routes = c.Protocols.OfType<StaticProtocolConfig>().Single().Routes;
        Assert.Equal(["10.60.1.0/26", "fd00:60:1::/122", "fd00:61::/64"], routes.Select(r => r.Prefix.ToString()));
        Assert.Equal("fd00::9", routes[2].Gateway.ToString());
    }

    [Fact]
    public void Without_the_switch_each_family_is_refused_by_the_other_daemon()
    {
        var v4 = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Config, "dual.cfg"));
        Assert.Contains("found IPv6 address 'fd00:60:1::'", v4.Message, StringComparison.Ordinal);
        var v6 = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Config, "dual.cfg", new ConfigLoadOptions { Ipv6 = true }));
        Assert.Contains("found IPv4 address '10.60.1.0'", v6.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_session_cannot_mix_families()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(
            "protocol bgp x { local as 1; neighbor fd00::2 as 2; source address 10.0.0.1; }", "mix.cfg", Dual));
        Assert.Equal("mix.cfg:1:1: protocol 'x': source address 10.0.0.1 and neighbor fd00::2 are of different families", e.Message);
    }
}
