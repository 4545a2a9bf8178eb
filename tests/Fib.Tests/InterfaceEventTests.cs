using System.Diagnostics;
using Calico.Bgp.Fib.Interfaces;
using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Fib.Static;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Fib.Tests;

/// <summary>Link and address notifications drive the device protocol, and through it direct and static routes.</summary>
public sealed class InterfaceEventTests
{
    /// <summary>Far beyond the test's length: only notifications can explain what happens in it.</summary>
    private const int NoTimerScan = 600;
    private static readonly TimeSpan WithinASecond = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task An_interface_going_down_withdraws_its_direct_and_static_routes_within_a_second_and_up_brings_them_back()
    {
        await using var lab = await TestLab.CreateAsync("if-events");
        var host = await lab.AddHostAsync("node");
        var peer = await lab.AddHostAsync("peer");
        await lab.ConnectAsync(host, "172.16.0.1/24", peer, "172.16.0.2/24", "eth0", "eth0");
        await lab.ConnectAsync(host, "10.5.0.1/24", peer, "10.5.0.2/24", "eth1", "eth1");
        var table = new RoutingTable();
        var loggers = NullLoggerFactory.Instance;
        var device = new DeviceProtocol(new DeviceProtocolOptions { Name = "device1", ScanTime = NoTimerScan }, table, TimeProvider.System, loggers, host.Netns);
        var direct = new DirectProtocol(new DirectProtocolOptions { Name = "direct1", ScanTime = NoTimerScan }, table, TimeProvider.System, loggers, host.Netns)
        {
            InterfaceSource = device,
        };
        var statics = new StaticProtocol(new StaticProtocolOptions
        {
            Name = "static1",
            CheckTime = NoTimerScan,
            Routes =
            [
                new StaticRoute(Prefix.Parse("10.225.0.4/32"), RouteDest.Router, IpAddr.Parse("172.16.0.2")),
                new StaticRoute(Prefix.Parse("10.226.0.0/24"), RouteDest.Router, IpAddr.Parse("10.5.0.2")),
                new StaticRoute(Prefix.Parse("10.227.0.0/24"), RouteDest.Router, IpAddr.Parse("10.6.0.2")),
            ],
        }, table, TimeProvider.System, loggers, host.Netns)
        {
            InterfaceSource = device,
        };
        // The daemon's order does not matter: a consumer started first catches up when the device starts.
        await direct.StartAsync(CancellationToken.None);
        await statics.StartAsync(CancellationToken.None);
        await device.StartAsync(CancellationToken.None);
        try
        {
            Assert.NotNull(table.Find(Prefix.Parse("172.16.0.0/24")));
            Assert.NotNull(table.Find(Prefix.Parse("10.225.0.4/32")));
            Assert.NotNull(table.Find(Prefix.Parse("10.226.0.0/24")));
            Assert.Null(table.Find(Prefix.Parse("10.227.0.0/24")));

            (await host.IpAsync("link", "set", "eth0", "down")).ThrowIfFailed("eth0 down");
            var clock = Stopwatch.StartNew();
            await Wait.UntilAsync(() => table.Find(Prefix.Parse("172.16.0.0/24")) is null && table.Find(Prefix.Parse("10.225.0.4/32")) is null,
                WithinASecond, "direct and static routes of eth0 withdrawn");
            Assert.True(clock.Elapsed < WithinASecond, $"took {clock.Elapsed}");
            // eth1 is untouched.
            Assert.NotNull(table.Find(Prefix.Parse("10.226.0.0/24")));
            Assert.NotNull(table.Find(Prefix.Parse("10.5.0.0/24")));

            (await host.IpAsync("link", "set", "eth0", "up")).ThrowIfFailed("eth0 up");
            await Wait.UntilAsync(() => table.Find(Prefix.Parse("172.16.0.0/24")) is not null && table.Find(Prefix.Parse("10.225.0.4/32")) is not null,
                WithinASecond, "routes of eth0 back");

            // A new address is a new connected subnet, and a gateway on it becomes usable.
            await host.AddAddressAsync("eth1", "10.6.0.1/24");
            await Wait.UntilAsync(() => table.Find(Prefix.Parse("10.6.0.0/24")) is not null && table.Find(Prefix.Parse("10.227.0.0/24")) is not null,
                WithinASecond, "new address imported and its gateway's route in");
            (await host.IpAsync("addr", "del", "10.6.0.1/24", "dev", "eth1")).ThrowIfFailed("addr del");
            await Wait.UntilAsync(() => table.Find(Prefix.Parse("10.6.0.0/24")) is null && table.Find(Prefix.Parse("10.227.0.0/24")) is null,
                WithinASecond, "address gone and its gateway's route withdrawn");
            Assert.True(device.NotificationScans >= 3, $"notification scans {device.NotificationScans}");
        }
        finally
        {
            await device.StopAsync(CancellationToken.None);
            await statics.StopAsync(CancellationToken.None);
            await direct.StopAsync(CancellationToken.None);
        }
        Assert.Equal(0, table.PrefixCount);
    }

    [Fact]
    public async Task The_kernel_scan_follows_the_device_protocols_interfaces()
    {
        await using var lab = await TestLab.CreateAsync("if-kernel");
        var host = await lab.AddHostAsync("node");
        var peer = await lab.AddHostAsync("peer");
        await lab.ConnectAsync(host, "172.16.0.1/24", peer, "172.16.0.2/24", "eth0", "eth0");
        (await host.IpAsync("link", "add", "tunl0", "type", "vxlan", "id", "42", "dstport", "4789")).ThrowIfFailed("tunl0");
        (await host.IpAsync("link", "set", "tunl0", "up")).ThrowIfFailed("tunl0 up");
        var table = new RoutingTable();
        var loggers = NullLoggerFactory.Instance;
        var device = new DeviceProtocol(new DeviceProtocolOptions { Name = "device1", ScanTime = NoTimerScan }, table, TimeProvider.System, loggers, host.Netns);
        var kernel = new KernelProtocol(new KernelProtocolOptions { Name = "kernel1", ExportFilter = RouteFilter.AcceptAll, ScanTime = 1 }, table, TimeProvider.System, loggers, host.Netns)
        {
            InterfaceSource = device,
        };
        var bgp = new TestProtocol(table);
        await device.StartAsync(CancellationToken.None);
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            table.Update(TestRoutes.Bgp(table, bgp, "10.233.68.0/24", "172.16.0.120", tunnel: "tunl0"));
            await Wait.UntilAsync(async () => (await host.RoutesAsync()).Any(r => r is { Dst: "10.233.68.0/24", Dev: "tunl0" }), WithinASecond * 10, "route over tunl0");

            // The tunnel device goes: the device protocol's new list re-plans the route without it.
            (await host.IpAsync("link", "del", "tunl0")).ThrowIfFailed("tunl0 gone");
            await Wait.UntilAsync(() => device.Interfaces.ByName("tunl0") is null, WithinASecond * 10, "device protocol saw tunl0 go");
            await Wait.UntilAsync(async () => (await host.RoutesAsync()).Any(r => r is { Dst: "10.233.68.0/24", Dev: "eth0", Gateway: "172.16.0.120" }),
                WithinASecond * 10, "route via the gateway on eth0", () => host.RoutesTextAsync());
            var scans = kernel.Counters.Scans;
            await Wait.UntilAsync(() => kernel.Counters.Scans >= scans + 2, WithinASecond * 10, "two timer scans");
            Assert.Contains(await host.RoutesAsync(), r => r is { Dst: "10.233.68.0/24", Dev: "eth0" });
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
            await device.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task The_interface_source_cannot_change_while_running()
    {
        await using var lab = await TestLab.CreateAsync("if-source");
        var host = await lab.AddHostAsync("node");
        var table = new RoutingTable();
        var device = new DeviceProtocol(new DeviceProtocolOptions { Name = "device1" }, table, TimeProvider.System, NullLoggerFactory.Instance, host.Netns);
        var direct = new DirectProtocol(new DirectProtocolOptions { Name = "direct1" }, table, TimeProvider.System, NullLoggerFactory.Instance, host.Netns);
        await direct.StartAsync(CancellationToken.None);
        try
        {
            Assert.Throws<InvalidOperationException>(() => direct.InterfaceSource = device);
        }
        finally
        {
            await direct.StopAsync(CancellationToken.None);
        }
        direct.InterfaceSource = device;
        Assert.Same(device, direct.InterfaceSource);
    }
}
