namespace Calico.Bgp.Config.Tests;

/// <summary>BIRD 2's <c>send hold time N</c> (RFC 9687) in a BGP protocol block.</summary>
public class SendHoldTimeConfigTests
{
    private static BgpProtocolConfig Parse(string option) =>
        Assert.IsType<BgpProtocolConfig>(Assert.Single(ConfigLoader.Parse($$"""
            protocol bgp p { local as 64512; neighbor 192.0.2.2 as 64512; {{option}} }
            """, "t.cfg").Protocols));

    [Fact]
    public void Send_hold_time_is_read_and_unset_means_the_default()
    {
        Assert.Equal(10, Parse("send hold time 10;").SendHoldTime);
        Assert.Equal(0, Parse("send hold time 0;").SendHoldTime);
        Assert.Null(Parse("").SendHoldTime);
    }
}
