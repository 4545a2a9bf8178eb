using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Fib.Static;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Fib.Tests;

/// <summary>The kernel protocol against a real RoutingTable and a lab namespace's kernel table.</summary>
public sealed class KernelProtocolTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);

    /// <summary>Stands in for a BGP session: owns routes in the table.</summary>
    private sealed class FakeBgp(RoutingTable table) : Protocol("Mesh_172_16_0_2", table, TimeProvider.System, 100)
    {
        public override string TypeName => "BGP";
        public override BgpPeerIdentity? BgpPeer => TestPeers.For(Name);
        public override Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public override Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private static async Task<(TestLab Lab, LabHost Host)> NodeAsync(string name)
    {
        var lab = await TestLab.CreateAsync(name);
        var host = await lab.AddHostAsync("node");
        var peer = await lab.AddHostAsync("peer");
        await lab.ConnectAsync(host, "172.16.0.1/24", peer, "172.16.0.2/24", "eth0", "eth0");
        (await host.IpAsync("link", "add", "tunl0", "type", "vxlan", "id", "42", "dstport", "4789")).ThrowIfFailed("tunl0");
        (await host.IpAsync("link", "set", "tunl0", "up")).ThrowIfFailed("tunl0 up");
        return (lab, host);
    }

    private static KernelProtocol Kernel(RoutingTable table, LabHost host, Func<KernelProtocolOptions, KernelProtocolOptions>? tweak = null)
    {
        var options = new KernelProtocolOptions { Name = "kernel1", ExportFilter = RouteFilter.AcceptAll, ScanTime = 1, Persist = true };
        return new KernelProtocol(tweak?.Invoke(options) ?? options, table, TimeProvider.System, NullLoggerFactory.Instance, host.Netns);
    }

    private static Route BgpRoute(RoutingTable table, Protocol bgp, string prefix, string nextHop, string? tunnel) =>
        Route.Create(Prefix.Parse(prefix), table.Attributes.Intern(new PathAttributes
        {
            Source = RouteSource.Bgp,
            Dest = RouteDest.Router,
            NextHop = IpAddr.Parse(nextHop),
            Gateway = IpAddr.Parse(nextHop),
            KrtTunnel = tunnel,
        }), bgp);

    private static Task WaitForRouteAsync(LabHost host, string dst, Func<KernelRoute?, bool> ok, string what) =>
        Wait.UntilAsync(async () => ok((await host.RoutesAsync()).FirstOrDefault(r => r.Dst == dst)), Soon, what, () => host.RoutesTextAsync());

    [Fact]
    public async Task Table_routes_become_kernel_routes_of_each_shape_and_withdraws_remove_them()
    {
        var (lab, host) = await NodeAsync("kernel-shapes");
        await using var _ = lab;
        var table = new RoutingTable();
        var bgp = new FakeBgp(table);
        var kernel = Kernel(table, host, o => o with { Persist = false });
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            table.Update(BgpRoute(table, bgp, "10.233.68.0/24", "172.16.0.120", "tunl0"));
            table.Update(BgpRoute(table, bgp, "10.233.69.0/24", "172.16.0.2", ""));
            table.Update(Route.Create(Prefix.Parse("10.233.89.0/24"), table.Attributes.Intern(new PathAttributes { Source = RouteSource.Static, Dest = RouteDest.Blackhole }), bgp));
            var withMetric = BgpRoute(table, bgp, "10.233.70.0/24", "172.16.0.2", null);
            table.Update(withMetric.WithAttributes(table.Attributes.Intern(withMetric.Attributes with { KrtMetric = 1024 })));

            await WaitForRouteAsync(host, "10.233.68.0/24", r => r is { Gateway: "172.16.0.120", Dev: "tunl0", Protocol: "bird", IsOnlink: true }, "onlink via tunl0");
            await WaitForRouteAsync(host, "10.233.69.0/24", r => r is { Gateway: "172.16.0.2", Dev: "eth0", Protocol: "bird", IsOnlink: false }, "via eth0");
            await WaitForRouteAsync(host, "10.233.89.0/24", r => r is { Type: "blackhole", Protocol: "bird" }, "blackhole");
            await WaitForRouteAsync(host, "10.233.70.0/24", r => r is { Metric: 1024, Protocol: "bird" }, "metric 1024");
            Assert.Equal(4, kernel.Counters.RoutesInstalled);

            table.Withdraw(Prefix.Parse("10.233.68.0/24"), bgp);
            await WaitForRouteAsync(host, "10.233.68.0/24", r => r is null, "withdrawn route gone");
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
        // Without persist, stopping removes what we wrote.
        Assert.DoesNotContain(await host.RoutesAsync(), r => r.Protocol == "bird");
    }

    [Fact]
    public async Task Merge_paths_installs_one_multipath_route()
    {
        var (lab, host) = await NodeAsync("kernel-ecmp");
        await using var _ = lab;
        var table = new RoutingTable();
        var a = new FakeBgp(table);
        var b = new FakeBgp2(table);
        var kernel = Kernel(table, host, o => o with { MergePaths = true });
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            table.Update(BgpRoute(table, a, "10.9.0.0/24", "172.16.0.2", null));
            table.Update(BgpRoute(table, b, "10.9.0.0/24", "172.16.0.3", null));
            await WaitForRouteAsync(host, "10.9.0.0/24", r => r is not null && r.MultipathGateways.Count == 2, "two next hops");
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Scan_restores_a_multipath_route_someone_else_replaced()
    {
        var (lab, host) = await NodeAsync("kernel-ecmp-drift");
        await using var _ = lab;
        var table = new RoutingTable();
        var kernel = Kernel(table, host, o => o with { MergePaths = true });
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            table.Update(BgpRoute(table, new FakeBgp(table), "10.9.0.0/24", "172.16.0.2", null));
            table.Update(BgpRoute(table, new FakeBgp2(table), "10.9.0.0/24", "172.16.0.3", null));
            await WaitForRouteAsync(host, "10.9.0.0/24", r => r is not null && r.MultipathGateways.Count == 2, "two next hops");

            (await host.IpAsync("route", "replace", "10.9.0.0/24", "via", "172.16.0.9", "proto", "bird")).ThrowIfFailed("one hop");
            await WaitForRouteAsync(host, "10.9.0.0/24", r => r is not null && r.MultipathGateways.Order().SequenceEqual(["172.16.0.2", "172.16.0.3"]), "both next hops back");
            Assert.True(kernel.Counters.Repairs >= 1, $"repairs {kernel.Counters.Repairs}");
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Scans_of_an_unchanged_kernel_table_write_nothing_and_learn_nothing_again()
    {
        var (lab, host) = await NodeAsync("kernel-idle");
        await using var _ = lab;
        var table = new RoutingTable();
        var kernel = Kernel(table, host, o => o with { Learn = true });
        (await host.IpAsync("route", "add", "10.50.0.0/24", "via", "172.16.0.2", "proto", "static")).ThrowIfFailed("alien");
        (await host.IpAsync("route", "add", "10.51.0.0/24", "proto", "static", "nexthop", "via", "172.16.0.2", "nexthop", "via", "172.16.0.3")).ThrowIfFailed("alien ecmp");
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            table.Update(BgpRoute(table, new FakeBgp(table), "10.233.69.0/24", "172.16.0.2", null));
            await WaitForRouteAsync(host, "10.233.69.0/24", r => r is not null, "route installed");
            await Wait.UntilAsync(() => kernel.Counters.Writes >= 1, Soon, "the write counted");
            Assert.Equal(2, table.Find(Prefix.Parse("10.51.0.0/24"))!.Routes.Length);
            var single = table.Find(Prefix.Parse("10.50.0.0/24"))!.Best!;
            var multi = table.Find(Prefix.Parse("10.51.0.0/24"))!.Routes.ToList();
            var (writes, imports, scans) = (kernel.Counters.Writes, kernel.Stats.ImportUpdatesReceived, kernel.Counters.Scans);

            // scan time 1: three scans of a kernel table that does not change.
            await Wait.UntilAsync(() => kernel.Counters.Scans >= scans + 3, Soon, "three more scans");
            Assert.Equal(writes, kernel.Counters.Writes);
            Assert.Equal(0, kernel.Counters.Repairs);
            Assert.Equal(imports, kernel.Stats.ImportUpdatesReceived);
            Assert.Same(single, table.Find(Prefix.Parse("10.50.0.0/24"))!.Best);
            Assert.Equal(multi, table.Find(Prefix.Parse("10.51.0.0/24"))!.Routes.ToList());

            // A change is still seen: the changed alien route is learned again, the other left as it is.
            (await host.IpAsync("route", "replace", "10.50.0.0/24", "via", "172.16.0.3", "proto", "static")).ThrowIfFailed("alien changed");
            await Wait.UntilAsync(() => table.Find(Prefix.Parse("10.50.0.0/24"))?.Best?.Attributes.Gateway == IpAddr.Parse("172.16.0.3"), Soon, "changed route learned");
            Assert.Equal(multi, table.Find(Prefix.Parse("10.51.0.0/24"))!.Routes.ToList());
            Assert.Equal(writes, kernel.Counters.Writes);
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
    }

    private sealed class FakeBgp2(RoutingTable table) : Protocol("Mesh_172_16_0_3", table, TimeProvider.System, 100)
    {
        public override string TypeName => "BGP";
        public override BgpPeerIdentity? BgpPeer => TestPeers.For(Name);
        public override Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public override Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    [Fact]
    public async Task Scan_repairs_drift_and_persist_keeps_routes_after_stop()
    {
        var (lab, host) = await NodeAsync("kernel-drift");
        await using var _ = lab;
        var table = new RoutingTable();
        var bgp = new FakeBgp(table);
        var kernel = Kernel(table, host);
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            table.Update(BgpRoute(table, bgp, "10.233.68.0/24", "172.16.0.120", "tunl0"));
            table.Update(BgpRoute(table, bgp, "10.233.69.0/24", "172.16.0.2", null));
            await WaitForRouteAsync(host, "10.233.69.0/24", r => r is not null, "route installed");

            (await host.IpAsync("route", "del", "10.233.68.0/24")).ThrowIfFailed("del ours");
            (await host.IpAsync("route", "add", "blackhole", "10.99.0.0/24", "proto", "bird")).ThrowIfFailed("stray");
            (await host.IpAsync("route", "replace", "10.233.69.0/24", "via", "172.16.0.9", "proto", "bird")).ThrowIfFailed("changed");

            await WaitForRouteAsync(host, "10.233.68.0/24", r => r is { Dev: "tunl0", IsOnlink: true }, "deleted route put back");
            await WaitForRouteAsync(host, "10.99.0.0/24", r => r is null, "stray route of ours removed");
            await WaitForRouteAsync(host, "10.233.69.0/24", r => r is { Gateway: "172.16.0.2" }, "changed route restored");
            Assert.True(kernel.Counters.Repairs >= 3, $"repairs {kernel.Counters.Repairs}");
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
        Assert.Equal(2, (await host.RoutesAsync()).Count(r => r.Protocol == "bird"));
    }

    [Fact]
    public async Task Start_keeps_identical_routes_prunes_unwanted_ones_and_holds_them_during_graceful_recovery()
    {
        var (lab, host) = await NodeAsync("kernel-gr");
        await using var _ = lab;
        (await host.IpAsync("route", "add", "10.233.69.0/24", "via", "172.16.0.2", "proto", "bird")).ThrowIfFailed("old route");
        (await host.IpAsync("route", "add", "blackhole", "10.98.0.0/24", "proto", "bird")).ThrowIfFailed("stale route");
        var table = new RoutingTable();
        var bgp = new FakeBgp(table);
        table.Update(BgpRoute(table, bgp, "10.233.69.0/24", "172.16.0.2", null));
        var kernel = Kernel(table, host, o => o with { GracefulRestart = true, HoldPrune = true, ScanTime = 60 });
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            await Task.Delay(1500);
            var routes = await host.RoutesAsync();
            Assert.Contains(routes, r => r.Dst == "10.98.0.0/24");
            Assert.Contains(routes, r => r.Dst == "10.233.69.0/24");
            // The identical route was neither deleted nor rewritten.
            Assert.Equal(0, kernel.Counters.Writes);

            kernel.EndGracefulRecovery();
            await WaitForRouteAsync(host, "10.98.0.0/24", r => r is null, "stale route pruned after recovery");
            Assert.Contains(await host.RoutesAsync(), r => r.Dst == "10.233.69.0/24");
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Learn_imports_alien_routes_and_withdraws_them_when_they_go()
    {
        var (lab, host) = await NodeAsync("kernel-learn");
        await using var _ = lab;
        var table = new RoutingTable();
        var kernel = Kernel(table, host, o => o with { Learn = true, ExportFilter = RouteFilter.RejectAll });
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            (await host.IpAsync("route", "add", "10.50.0.0/24", "via", "172.16.0.2", "proto", "static", "metric", "7")).ThrowIfFailed("alien");
            await Wait.UntilAsync(() => table.Find(Prefix.Parse("10.50.0.0/24")) is not null, Soon, "learned route");
            var learned = table.Find(Prefix.Parse("10.50.0.0/24"))!.Best!;
            Assert.Same(kernel, learned.Protocol);
            Assert.Equal(RouteSource.Inherit, learned.Attributes.Source);
            Assert.Equal(7u, learned.Attributes.KrtMetric);
            Assert.Equal((byte)4, learned.Attributes.KrtSource);
            Assert.Equal("eth0", learned.Attributes.Interface);
            Assert.Equal(IpAddr.Parse("172.16.0.2"), learned.Attributes.Gateway);
            // Proto kernel routes (the connected subnet) are never learned.
            Assert.Null(table.Find(Prefix.Parse("172.16.0.0/24")));

            (await host.IpAsync("route", "del", "10.50.0.0/24")).ThrowIfFailed("alien gone");
            await Wait.UntilAsync(() => table.Find(Prefix.Parse("10.50.0.0/24")) is null, Soon, "learned route withdrawn");
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Static_blackhole_through_the_kernel_protocol_is_a_proto_bird_blackhole()
    {
        var (lab, host) = await NodeAsync("static-kernel");
        await using var _ = lab;
        var table = new RoutingTable();
        var kernel = Kernel(table, host);
        var statics = new StaticProtocol(new StaticProtocolOptions
        {
            Name = "static1",
            Routes =
            [
                new StaticRoute(Prefix.Parse("192.168.221.192/26"), RouteDest.Blackhole),
                new StaticRoute(Prefix.Parse("10.225.0.4/32"), RouteDest.Router, IpAddr.Parse("172.16.0.2")),
                new StaticRoute(Prefix.Parse("10.226.0.0/24"), RouteDest.Router, IpAddr.Parse("192.0.2.1")),
            ],
        }, table, TimeProvider.System, NullLoggerFactory.Instance, host.Netns);
        await statics.StartAsync(CancellationToken.None);
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            Assert.Equal(ProtocolState.Up, statics.State);
            await WaitForRouteAsync(host, "192.168.221.192/26", r => r is { Type: "blackhole", Protocol: "bird" }, "static blackhole");
            await WaitForRouteAsync(host, "10.225.0.4", r => r is { Gateway: "172.16.0.2", Dev: "eth0", Protocol: "bird" }, "static via");
            // A gateway on no connected subnet keeps its route out of the table.
            Assert.Null(table.Find(Prefix.Parse("10.226.0.0/24")));
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
            await statics.StopAsync(CancellationToken.None);
        }
        Assert.Equal(0, table.PrefixCount);
    }
}
