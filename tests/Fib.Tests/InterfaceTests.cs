using Calico.Bgp.Fib.Interfaces;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Fib.Tests;

public sealed class InterfaceTests
{
    [Theory]
    [InlineData("cali*", "cali12ab", true)]
    [InlineData("cali*", "eth0", false)]
    [InlineData("*", "", true)]
    [InlineData("kube-ipvs*", "kube-ipvs0", true)]
    [InlineData("eth?", "eth0", true)]
    [InlineData("eth?", "eth10", false)]
    [InlineData("*.cali", "x.cali", true)]
    public void Shell_patterns_match_as_birds_patmatch(string pattern, string name, bool expected) =>
        Assert.Equal(expected, ShellPattern.Matches(pattern, name));

    [Fact]
    public void The_first_matching_pattern_decides()
    {
        InterfacePattern[] calico = [new(true, "cali*"), new(true, "kube-ipvs*"), new(false, "*")];
        Assert.False(InterfacePattern.Includes(calico, "cali0"));
        Assert.False(InterfacePattern.Includes(calico, "kube-ipvs0"));
        Assert.True(InterfacePattern.Includes(calico, "eth0"));
        Assert.False(InterfacePattern.Includes([new(false, "eth*")], "tunl0"));
    }

    [Fact]
    public async Task Device_lists_interfaces_and_direct_imports_connected_subnets_of_included_up_interfaces()
    {
        await using var lab = await TestLab.CreateAsync("direct");
        var host = await lab.AddHostAsync("node");
        var peer = await lab.AddHostAsync("peer");
        await lab.ConnectAsync(host, "172.16.0.1/24", peer, "172.16.0.2/24", "eth0", "eth0");
        await lab.ConnectAsync(host, "10.5.0.1/30", peer, "10.5.0.2/30", "cali1234", "eth1");
        var table = new RoutingTable();
        var device = new DeviceProtocol(new DeviceProtocolOptions { Name = "device1", ScanTime = 1 }, table, TimeProvider.System, NullLoggerFactory.Instance, host.Netns);
        var direct = new DirectProtocol(new DirectProtocolOptions
        {
            Name = "direct1",
            ScanTime = 1,
            InterfacePatterns = [new(true, "cali*"), new(true, "kube-ipvs*"), new(false, "*")],
        }, table, TimeProvider.System, NullLoggerFactory.Instance, host.Netns);
        await device.StartAsync(CancellationToken.None);
        await direct.StartAsync(CancellationToken.None);
        try
        {
            var eth0 = device.Interfaces.ByName("eth0");
            Assert.NotNull(eth0);
            Assert.True(eth0.IsUp);
            Assert.Contains(eth0.Addresses, a => a.Address == IpAddr.Parse("172.16.0.1") && a.PrefixLength == 24);
            Assert.NotNull(device.Interfaces.ByName("lo"));

            var connected = table.Find(Prefix.Parse("172.16.0.0/24"))?.Best;
            Assert.NotNull(connected);
            Assert.Equal((RouteSource.Device, RouteDest.Device, "eth0"), (connected.Attributes.Source, connected.Attributes.Dest, connected.Attributes.Interface));
            Assert.Null(table.Find(Prefix.Parse("10.5.0.0/30")));
            Assert.Null(table.Find(Prefix.Parse("127.0.0.0/8")));

            (await host.IpAsync("link", "set", "eth0", "down")).ThrowIfFailed("eth0 down");
            await Wait.UntilAsync(() => table.Find(Prefix.Parse("172.16.0.0/24")) is null, TimeSpan.FromSeconds(10), "down interface's subnet withdrawn");
            await Wait.UntilAsync(() => device.Interfaces.ByName("eth0") is { IsUp: false }, TimeSpan.FromSeconds(10), "device sees eth0 down");
        }
        finally
        {
            await direct.StopAsync(CancellationToken.None);
            await device.StopAsync(CancellationToken.None);
        }
        Assert.Equal(ProtocolState.Down, direct.State);
        Assert.Equal(0, table.PrefixCount);
    }
}
