using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Fib.Tests;

/// <summary>The kernel protocol in a lab namespace: route shapes, refused writes, IPv6 multipath, restarts.</summary>
public sealed class KernelNamespaceTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);

    internal static async Task<(TestLab Lab, LabHost Host)> NodeAsync(string name, bool tunnel = true)
    {
        var lab = await TestLab.CreateAsync(name);
        var host = await lab.AddHostAsync("node");
        var peer = await lab.AddHostAsync("peer");
        await lab.ConnectAsync(host, "172.16.0.1/24", peer, "172.16.0.2/24", "eth0", "eth0");
        await host.AddAddressAsync("eth0", "fd00:16::1/64");
        if (tunnel)
            await AddTunnelAsync(host, "tunl0");
        return (lab, host);
    }

    /// <summary>The test kernel has no ipip module: a vxlan device named tunl0 carries the same routes.</summary>
    private static async Task AddTunnelAsync(LabHost host, string name)
    {
        (await host.IpAsync("link", "add", name, "type", "vxlan", "id", "42", "dstport", "4789")).ThrowIfFailed(name);
        (await host.IpAsync("link", "set", name, "up")).ThrowIfFailed($"{name} up");
    }

    private static KernelProtocol Kernel(RoutingTable table, LabHost host, Func<KernelProtocolOptions, KernelProtocolOptions>? tweak = null)
    {
        var options = new KernelProtocolOptions { Name = "kernel1", ExportFilter = RouteFilter.AcceptAll, ScanTime = 1, Persist = true };
        return new KernelProtocol(tweak?.Invoke(options) ?? options, table, TimeProvider.System, NullLoggerFactory.Instance, host.Netns);
    }

    private static Task WaitForRouteAsync(LabHost host, string dst, Func<KernelRoute?, bool> ok, string what, bool ipv6 = false) =>
        Wait.UntilAsync(async () => ok((await host.RoutesAsync(ipv6)).FirstOrDefault(r => r.Dst == dst)), Soon, what, () => host.RoutesTextAsync(ipv6));

    [Fact]
    public async Task Unreachable_prohibit_and_a_missing_krt_tunnel_device_become_the_routes_calicos_bird_writes()
    {
        var (lab, host) = await NodeAsync("kernel-reject-shapes", tunnel: false);
        await using var _ = lab;
        var table = new RoutingTable();
        var bgp = new TestProtocol(table);
        var kernel = Kernel(table, host);
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            table.Update(TestRoutes.Of(table, bgp, "10.90.0.0/24", RouteDest.Unreachable));
            table.Update(TestRoutes.Of(table, bgp, "10.91.0.0/24", RouteDest.Prohibit));
            table.Update(TestRoutes.Bgp(table, bgp, "10.233.68.0/24", "172.16.0.2", tunnel: "tunl0"));
            await WaitForRouteAsync(host, "10.90.0.0/24", r => r is { Type: "unreachable", Protocol: "bird" }, "unreachable");
            await WaitForRouteAsync(host, "10.91.0.0/24", r => r is { Type: "prohibit", Protocol: "bird" }, "prohibit");
            // No tunl0 yet: the plain gateway route, as the fork's nl_send_route falls back.
            await WaitForRouteAsync(host, "10.233.68.0/24", r => r is { Gateway: "172.16.0.2", Dev: "eth0", IsOnlink: false, Protocol: "bird" }, "fallback via eth0");

            // Once the tunnel device exists, the next scan moves the route onto it.
            await AddTunnelAsync(host, "tunl0");
            await WaitForRouteAsync(host, "10.233.68.0/24", r => r is { Gateway: "172.16.0.2", Dev: "tunl0", IsOnlink: true }, "onlink via tunl0");
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_route_the_kernel_refuses_is_counted_and_retried_until_its_gateway_is_reachable()
    {
        var (lab, host) = await NodeAsync("kernel-retry");
        await using var _ = lab;
        var table = new RoutingTable();
        var bgp = new TestProtocol(table);
        var kernel = Kernel(table, host);
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            table.Update(TestRoutes.Bgp(table, bgp, "10.233.69.0/24", "172.16.0.2"));
            table.Update(TestRoutes.Bgp(table, bgp, "10.233.70.0/24", "10.77.0.2"));
            table.Update(TestRoutes.Of(table, bgp, "10.233.71.0/24", RouteDest.Blackhole));
            await WaitForRouteAsync(host, "10.233.69.0/24", r => r is not null, "reachable route");
            await WaitForRouteAsync(host, "10.233.71.0/24", r => r is not null, "blackhole");
            // 10.77.0.2 is on no connected subnet: the kernel answers ENETUNREACH, at start and at every scan.
            await Wait.UntilAsync(() => kernel.Counters.WriteErrorsByErrno.GetValueOrDefault(Errno.Enetunreach) >= 2, Soon, "ENETUNREACH counted twice");
            Assert.DoesNotContain(await host.RoutesAsync(), r => r.Dst == "10.233.70.0/24");
            Assert.Equal(2, kernel.Counters.RoutesInstalled);

            await host.AddAddressAsync("eth0", "10.77.0.1/24");
            await WaitForRouteAsync(host, "10.233.70.0/24", r => r is { Gateway: "10.77.0.2", Dev: "eth0", Protocol: "bird" }, "retried route installed");
            Assert.Equal(3, kernel.Counters.RoutesInstalled);
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Ipv6_merge_paths_writes_one_multipath_route_and_follows_path_changes()
    {
        var (lab, host) = await NodeAsync("kernel-v6-ecmp");
        await using var _ = lab;
        var table = new RoutingTable();
        var a = new TestProtocol(table, "Mesh_a");
        var b = new TestProtocol(table, "Mesh_b");
        var c = new TestProtocol(table, "Mesh_c");
        var kernel = Kernel(table, host, o => o with { Ipv6 = true, MergePaths = true, Name = "kernel2" });
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            table.Update(TestRoutes.Bgp(table, a, "fd00:233::/64", "fd00:16::2"));
            await WaitForRouteAsync(host, "fd00:233::/64", r => r is { Gateway: "fd00:16::2", Protocol: "bird" }, "single path", ipv6: true);
            table.Update(TestRoutes.Bgp(table, b, "fd00:233::/64", "fd00:16::3"));
            await WaitForRouteAsync(host, "fd00:233::/64", r => r is not null && r.MultipathGateways.Order().SequenceEqual(["fd00:16::2", "fd00:16::3"]), "two next hops", ipv6: true);
            table.Update(TestRoutes.Bgp(table, c, "fd00:233::/64", "fd00:16::4"));
            await WaitForRouteAsync(host, "fd00:233::/64", r => r is not null && r.MultipathGateways.Count == 3, "three next hops", ipv6: true);
            table.Withdraw(Prefix.Parse("fd00:233::/64"), a);
            await WaitForRouteAsync(host, "fd00:233::/64", r => r is not null && r.MultipathGateways.Order().SequenceEqual(["fd00:16::3", "fd00:16::4"]), "back to two", ipv6: true);
            var repairs = kernel.Counters.Repairs;
            // Scans read the multipath route back as what was written: nothing to repair.
            await Task.Delay(2500);
            Assert.Equal(repairs, kernel.Counters.Repairs);
            Assert.Single(await host.RoutesAsync(ipv6: true), r => r.Protocol == "bird");
            table.Withdraw(Prefix.Parse("fd00:233::/64"), b);
            await WaitForRouteAsync(host, "fd00:233::/64", r => r is { Gateway: "fd00:16::4" } && r.MultipathGateways.Count == 0, "single path again", ipv6: true);
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_restart_with_persist_and_graceful_recovery_rewrites_nothing_and_then_prunes_only_the_stale_route()
    {
        var (lab, host) = await NodeAsync("kernel-restart");
        await using var _ = lab;
        var table = new RoutingTable();
        var a = new TestProtocol(table, "Mesh_a");
        var b = new TestProtocol(table, "Mesh_b");
        table.Update(TestRoutes.Bgp(table, a, "10.233.68.0/24", "172.16.0.120", tunnel: "tunl0"));
        table.Update(TestRoutes.Bgp(table, a, "10.233.69.0/24", "172.16.0.2", metric: 1024));
        table.Update(TestRoutes.Bgp(table, a, "10.233.70.0/24", "172.16.0.2"));
        table.Update(TestRoutes.Bgp(table, b, "10.233.70.0/24", "172.16.0.3"));
        table.Update(TestRoutes.Of(table, a, "10.233.89.0/24", RouteDest.Blackhole));
        table.Update(TestRoutes.Bgp(table, a, "10.233.90.0/24", "172.16.0.2"));
        var first = Kernel(table, host, o => o with { MergePaths = true, GracefulRestart = true });
        await first.StartAsync(CancellationToken.None);
        await WaitForRouteAsync(host, "10.233.70.0/24", r => r is not null && r.MultipathGateways.Count == 2, "multipath installed");
        await Wait.UntilAsync(() => first.Counters.RoutesInstalled == 5, Soon, "five routes in");
        await first.StopAsync(CancellationToken.None);
        Assert.Equal(5, (await host.RoutesAsync()).Count(r => r.Protocol == "bird"));

        // The new run (-R): 10.233.90.0/24 is not (yet) wanted.
        table.Withdraw(Prefix.Parse("10.233.90.0/24"), a);
        await using var monitor = new RouteMonitor(host.Netns);
        var second = Kernel(table, host, o => o with { MergePaths = true, GracefulRestart = true, HoldPrune = true });
        await second.StartAsync(CancellationToken.None);
        try
        {
            // Two scans pass (scan time 1 s): still nothing rewritten, nothing removed.
            await Task.Delay(2500);
            Assert.Empty(monitor.Events);
            Assert.Equal(0, second.Counters.Writes);
            Assert.True(second.IsHoldingPrune);

            second.EndGracefulRecovery();
            await WaitForRouteAsync(host, "10.233.90.0/24", r => r is null, "stale route pruned");
            await Task.Delay(300);
            var events = monitor.Events;
            Assert.True(events.Count == 1, string.Join("\n", monitor.Describe()));
            Assert.Equal((Rtnl.DelRoute, Prefix.Parse("10.233.90.0/24")), (events[0].Type, events[0].Route.Prefix));
            Assert.Equal(4, (await host.RoutesAsync()).Count(r => r.Protocol == "bird"));
        }
        finally
        {
            await second.StopAsync(CancellationToken.None);
        }
    }
}
