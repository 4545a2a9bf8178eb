using System.Collections.Immutable;
using Calico.Bgp.Fib.Interfaces;
using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Fib.Static;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Fib.Tests;

/// <summary>
/// <c>route P multipath via A weight N via B …;</c> in a namespace with real links: the route carries
/// the next hops whose gateway is connected, becomes a plain route with one, goes with none, and is
/// exported as one RTA_MULTIPATH kernel route.
/// </summary>
public sealed class StaticMultipathTests
{
    private const int NoTimerScan = 600;
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(15);
    private static readonly Prefix P1 = Prefix.Parse("10.80.0.0/24");
    private static readonly Prefix P2 = Prefix.Parse("10.80.1.0/24");

    private static ImmutableArray<StaticNextHop> Hops(params (string Gateway, int Weight)[] hops) =>
        [.. hops.Select(h => new StaticNextHop(IpAddr.Parse(h.Gateway), h.Weight))];

    private static StaticProtocolOptions Options(ImmutableArray<StaticNextHop> hops) => new()
    {
        Name = "static1",
        CheckTime = NoTimerScan,
        // Two prefixes behind the same gateways (one array each, as two config lines give).
        Routes = [new StaticRoute(P1, RouteDest.Multipath, NextHops: hops), new StaticRoute(P2, RouteDest.Multipath, NextHops: [.. hops])],
    };

    private static async Task<(TestLab Lab, LabHost Host)> ThreeLinksAsync(string name)
    {
        var lab = await TestLab.CreateAsync(name);
        var host = await lab.AddHostAsync("node");
        var peer = await lab.AddHostAsync("peer");
        await lab.ConnectAsync(host, "10.0.1.1/24", peer, "10.0.1.2/24", "eth0", "eth0");
        await lab.ConnectAsync(host, "10.0.2.1/24", peer, "10.0.2.2/24", "eth1", "eth1");
        await lab.ConnectAsync(host, "10.0.3.1/24", peer, "10.0.3.2/24", "eth2", "eth2");
        return (lab, host);
    }

    private static PathAttributes? Best(RoutingTable table, Prefix p) => table.Find(p)?.Best?.Attributes;

    [Fact]
    public async Task Static_multipath_route_follows_its_gateways_and_reloads_in_place()
    {
        var (lab, host) = await ThreeLinksAsync("mp-static");
        await using var _ = lab;
        var table = new RoutingTable();
        var loggers = NullLoggerFactory.Instance;
        var device = new DeviceProtocol(new DeviceProtocolOptions { Name = "device1", ScanTime = NoTimerScan }, table, TimeProvider.System, loggers, host.Netns);
        // 10.0.9.2 is on no connected network: never a next hop.
        var statics = new StaticProtocol(Options(Hops(("10.0.1.2", 3), ("10.0.2.2", 1), ("10.0.9.2", 5))), table, TimeProvider.System, loggers, host.Netns)
        {
            InterfaceSource = device,
        };
        await statics.StartAsync(CancellationToken.None);
        await device.StartAsync(CancellationToken.None);
        try
        {
            await Wait.UntilAsync(() => Best(table, P1)?.Dest == RouteDest.Multipath, Generous, "multipath route in");
            var a = Best(table, P1)!;
            Assert.Equal(RouteSource.Static, a.Source);
            Assert.Null(a.Gateway);
            Assert.Equal<MultipathHop>([new(IpAddr.Parse("10.0.1.2"), "eth0", 3), new(IpAddr.Parse("10.0.2.2"), "eth1", 1)], a.NextHops.ToArray());
            // Both prefixes hold the one interned attribute set: no copy per route.
            Assert.Same(a, Best(table, P2));
            Assert.Equal(1, table.Find(P1)!.Count);

            // One gateway left: a plain route via it (BIRD 1.6 falls back to a unipath route).
            (await host.IpAsync("link", "set", "eth1", "down")).ThrowIfFailed("eth1 down");
            await Wait.UntilAsync(() => Best(table, P1) is { Dest: RouteDest.Router }, Generous, "route via eth0 only");
            var single = Best(table, P1)!;
            Assert.Equal(IpAddr.Parse("10.0.1.2"), single.Gateway);
            Assert.Equal("eth0", single.Interface);
            Assert.True(single.NextHops.IsDefault);

            // None left: withdrawn.
            (await host.IpAsync("link", "set", "eth0", "down")).ThrowIfFailed("eth0 down");
            await Wait.UntilAsync(() => table.Find(P1) is null && table.Find(P2) is null, Generous, "route withdrawn");

            // Back up: multipath again, with both hops.
            (await host.IpAsync("link", "set", "eth0", "up")).ThrowIfFailed("eth0 up");
            (await host.IpAsync("link", "set", "eth1", "up")).ThrowIfFailed("eth1 up");
            await Wait.UntilAsync(() => Best(table, P1) is { Dest: RouteDest.Multipath, NextHops.Length: 2 }, Generous, "multipath route back");

            // A reload that changes a weight and a gateway is taken in place.
            Assert.True(statics.TryReconfigure(Options(Hops(("10.0.1.2", 1), ("10.0.3.2", 7)))));
            var changed = Best(table, P1)!;
            Assert.Equal<MultipathHop>([new(IpAddr.Parse("10.0.1.2"), "eth0", 1), new(IpAddr.Parse("10.0.3.2"), "eth2", 7)], changed.NextHops.ToArray());
            Assert.Same(changed, Best(table, P2));
        }
        finally
        {
            await device.StopAsync(CancellationToken.None);
            await statics.StopAsync(CancellationToken.None);
        }
        Assert.Equal(0, table.PrefixCount);
    }

    [Fact]
    public async Task Multipath_route_is_one_kernel_route_with_weights_and_the_scan_leaves_it_alone()
    {
        var (lab, host) = await ThreeLinksAsync("mp-kernel");
        await using var _ = lab;
        var table = new RoutingTable();
        var loggers = NullLoggerFactory.Instance;
        var device = new DeviceProtocol(new DeviceProtocolOptions { Name = "device1", ScanTime = NoTimerScan }, table, TimeProvider.System, loggers, host.Netns);
        var statics = new StaticProtocol(Options(Hops(("10.0.1.2", 3), ("10.0.2.2", 1), ("10.0.3.2", 256))), table, TimeProvider.System, loggers, host.Netns)
        {
            InterfaceSource = device,
        };
        // No merge paths: the route carries its hops itself.
        var kernel = new KernelProtocol(new KernelProtocolOptions { Name = "kernel1", ExportFilter = RouteFilter.AcceptAll, ScanTime = 1 }, table, TimeProvider.System, loggers, host.Netns)
        {
            InterfaceSource = device,
        };
        await device.StartAsync(CancellationToken.None);
        await statics.StartAsync(CancellationToken.None);
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            await Wait.UntilAsync(async () => (await host.RoutesAsync()).Any(r => r.Dst == "10.80.0.0/24" && r.Hops.Count == 3), Generous,
                "multipath kernel route", () => host.RoutesTextAsync());
            var route = (await host.RoutesAsync()).Single(r => r.Dst == "10.80.0.0/24");
            Assert.Equal("bird", route.Protocol);
            // Weight 256 is rtnh_hops 255, the most a byte holds.
            Assert.Equal([new KernelRouteHop("10.0.1.2", "eth0", 3), new KernelRouteHop("10.0.2.2", "eth1", 1), new KernelRouteHop("10.0.3.2", "eth2", 256)],
                route.Hops.OrderBy(h => h.Gateway, StringComparer.Ordinal));

            // Read back on every scan and matched: no rewrite.
            var writes = kernel.Counters.Writes;
            var scans = kernel.Counters.Scans;
            await Wait.UntilAsync(() => kernel.Counters.Scans >= scans + 3, Generous, "three scans");
            Assert.Equal(writes, kernel.Counters.Writes);

            // A hop's link goes down: the route is rewritten without it.
            (await host.IpAsync("link", "set", "eth1", "down")).ThrowIfFailed("eth1 down");
            await Wait.UntilAsync(async () => (await host.RoutesAsync()).Any(r => r.Dst == "10.80.0.0/24" && r.Hops.Count == 2 && r.Hops.All(h => h.Dev != "eth1")),
                Generous, "route without the eth1 hop", () => host.RoutesTextAsync());

            // A reload that changes only a weight reaches the kernel.
            Assert.True(statics.TryReconfigure(Options(Hops(("10.0.1.2", 9), ("10.0.2.2", 1), ("10.0.3.2", 256)))));
            await Wait.UntilAsync(async () => (await host.RoutesAsync()).Any(r => r.Dst == "10.80.1.0/24" && r.Hops.Any(h => h is { Gateway: "10.0.1.2", Weight: 9 })),
                Generous, "new weight in the kernel", () => host.RoutesTextAsync());

            // Down to one gateway: a plain route via it.
            (await host.IpAsync("link", "set", "eth2", "down")).ThrowIfFailed("eth2 down");
            await Wait.UntilAsync(async () => (await host.RoutesAsync()).Any(r => r is { Dst: "10.80.0.0/24", Gateway: "10.0.1.2", Dev: "eth0", Hops.Count: 0 }),
                Generous, "single-path route via eth0", () => host.RoutesTextAsync());
            writes = kernel.Counters.Writes;
            scans = kernel.Counters.Scans;
            await Wait.UntilAsync(() => kernel.Counters.Scans >= scans + 2, Generous, "two scans");
            Assert.Equal(writes, kernel.Counters.Writes);
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
            await statics.StopAsync(CancellationToken.None);
            await device.StopAsync(CancellationToken.None);
        }
        Assert.DoesNotContain(await host.RoutesAsync(), r => r.Dst.StartsWith("10.80.", StringComparison.Ordinal));
    }
    [Fact]
    public async Task Ipv6_multipath_route_is_one_kernel_route_read_back_without_rewrites()
    {
        await using var lab = await TestLab.CreateAsync("mp-kernel6");
        var host = await lab.AddHostAsync("node");
        var peer = await lab.AddHostAsync("peer");
        await lab.ConnectAsync(host, "fd00:1::1/64", peer, "fd00:1::2/64", "eth0", "eth0");
        await lab.ConnectAsync(host, "fd00:2::1/64", peer, "fd00:2::2/64", "eth1", "eth1");
        var table = new RoutingTable();
        var loggers = NullLoggerFactory.Instance;
        var device = new DeviceProtocol(new DeviceProtocolOptions { Name = "device1", ScanTime = NoTimerScan }, table, TimeProvider.System, loggers, host.Netns);
        var prefix = Prefix.Parse("fd00:80::/64");
        var statics = new StaticProtocol(new StaticProtocolOptions
        {
            Name = "static1",
            CheckTime = NoTimerScan,
            Routes = [new StaticRoute(prefix, RouteDest.Multipath, NextHops: Hops(("fd00:1::2", 2), ("fd00:2::2", 1)))],
        }, table, TimeProvider.System, loggers, host.Netns)
        {
            InterfaceSource = device,
        };
        var kernel = new KernelProtocol(new KernelProtocolOptions { Name = "kernel1", Ipv6 = true, ExportFilter = RouteFilter.AcceptAll, ScanTime = 1 }, table, TimeProvider.System, loggers, host.Netns)
        {
            InterfaceSource = device,
        };
        await device.StartAsync(CancellationToken.None);
        await statics.StartAsync(CancellationToken.None);
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            await Wait.UntilAsync(async () => (await host.RoutesAsync(ipv6: true)).Any(r => r.Dst == "fd00:80::/64" && r.Hops.Count == 2), Generous,
                "IPv6 multipath kernel route", () => host.RoutesTextAsync(ipv6: true));
            var route = (await host.RoutesAsync(ipv6: true)).Single(r => r.Dst == "fd00:80::/64");
            Assert.Equal([new KernelRouteHop("fd00:1::2", "eth0", 2), new KernelRouteHop("fd00:2::2", "eth1", 1)], route.Hops.OrderBy(h => h.Gateway, StringComparer.Ordinal));
            var writes = kernel.Counters.Writes;
            var scans = kernel.Counters.Scans;
            await Wait.UntilAsync(() => kernel.Counters.Scans >= scans + 3, Generous, "three scans");
            Assert.Equal(writes, kernel.Counters.Writes);
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
            await statics.StopAsync(CancellationToken.None);
            await device.StopAsync(CancellationToken.None);
        }
        Assert.DoesNotContain(await host.RoutesAsync(ipv6: true), r => r.Dst == "fd00:80::/64");
    }
}
