using Calico.Bgp.Config;
using Calico.Bgp.Daemon.Hosting;

namespace Calico.Bgp.Daemon.Tests.Hosting;

/// <summary>
/// Which sessions resolve their next hops through the table: <c>gateway recursive|direct</c> when the
/// config says, else BIRD 1.6's default, recursive for multihop sessions (iBGP is one unless <c>direct</c>).
/// </summary>
public class GatewayModeTests
{
    [Theory]
    [InlineData("local as 64512; neighbor 10.0.0.2 as 64512;", true)]
    [InlineData("local as 64512; neighbor 10.0.0.2 as 64512; direct;", false)]
    [InlineData("local as 64512; neighbor 10.0.0.2 as 64512; direct; multihop;", true)]
    [InlineData("local as 64512; neighbor 10.0.0.2 as 64513;", false)]
    [InlineData("local as 64512; neighbor 10.0.0.2 as 64513; multihop 2;", true)]
    [InlineData("local as 64512; neighbor 10.0.0.2 as 64513; gateway recursive;", true)]
    [InlineData("local as 64512; neighbor 10.0.0.2 as 64512; gateway direct;", false)]
    [InlineData("local as 64512; neighbor 10.0.0.2 as 64512; multihop; gateway direct;", false)]
    public void Gateway_mode_is_the_configs_or_birds_default(string body, bool recursive)
    {
        var config = ConfigLoader.Parse($"router id 10.0.0.1;\nprotocol bgp peer {{ {body} }}\n", "bird.cfg");
        var bgp = Assert.IsType<BgpProtocolConfig>(Assert.Single(config.Protocols));
        Assert.Equal(recursive, ProtocolFactory.GatewayRecursive(bgp));
    }
}
