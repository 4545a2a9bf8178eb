using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Fib.Tests;

/// <summary>
/// Routes written naming shared kernel nexthop objects, in a lab namespace: what the kernel holds
/// (the routes and the objects, read with <c>ip -j</c>), objects removed once unused, drift
/// repaired, a restart that rewrites nothing, and the option off.
/// </summary>
public sealed class NexthopObjectTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);

    private static KernelProtocol Kernel(RoutingTable table, LabHost host, bool persist = false, bool nexthopObjects = true) =>
        new(new KernelProtocolOptions
        {
            Name = "kernel1",
            ExportFilter = RouteFilter.AcceptAll,
            ScanTime = 1,
            MergePaths = true,
            Persist = persist,
            NexthopObjects = nexthopObjects,
        }, table, TimeProvider.System, NullLoggerFactory.Instance, host.Netns);

    /// <summary>
    /// Two blocks through 172.16.0.2 (no device named: the kernel's lookup finds eth0), one block
    /// onlink on tunl0, and two blocks with the same two BGP paths (one multipath route each).
    /// </summary>
    private static (TestProtocol A, TestProtocol B) Fill(RoutingTable table)
    {
        var a = new TestProtocol(table, "Mesh_a");
        var b = new TestProtocol(table, "Mesh_b");
        table.Update(TestRoutes.Bgp(table, a, "10.233.68.0/24", "172.16.0.2"));
        table.Update(TestRoutes.Bgp(table, a, "10.233.69.0/24", "172.16.0.2"));
        table.Update(TestRoutes.Bgp(table, a, "10.233.70.0/24", "172.16.0.120", tunnel: "tunl0"));
        foreach (var p in (string[])["10.233.71.0/24", "10.233.72.0/24"])
        {
            table.Update(TestRoutes.Bgp(table, a, p, "172.16.0.2"));
            table.Update(TestRoutes.Bgp(table, b, p, "172.16.0.3"));
        }
        return (a, b);
    }

    private static async Task<Dictionary<string, KernelRoute>> BirdRoutesAsync(LabHost host) =>
        (await host.RoutesAsync()).Where(r => r.Protocol == "bird").ToDictionary(r => r.Dst);

    private static async Task<string> DescribeAsync(LabHost host) =>
        $"{await host.RoutesTextAsync()}\nnexthops:\n{string.Join('\n', await host.NexthopsAsync())}";

    private static Task WaitForAsync(LabHost host, Func<Dictionary<string, KernelRoute>, IReadOnlyList<KernelNexthop>, bool> ok, string what) =>
        Wait.UntilAsync(async () => ok(await BirdRoutesAsync(host), await host.NexthopsAsync()), Soon, what, () => DescribeAsync(host));

    private static bool AllFiveNamed(Dictionary<string, KernelRoute> routes) =>
        routes.Count == 5 && routes.Values.All(r => r.NexthopId is not null) && routes["10.233.71.0/24"].MultipathGateways.Count == 2 && routes["10.233.72.0/24"].MultipathGateways.Count == 2;

    [Fact]
    public async Task Routes_through_the_same_gateways_name_one_object_and_read_back_with_their_gateways()
    {
        var (lab, host) = await KernelNamespaceTests.NodeAsync("nhobj-share");
        await using var _ = lab;
        var table = new RoutingTable();
        var (a, b) = Fill(table);
        var kernel = Kernel(table, host);
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            await WaitForAsync(host, (r, _) => AllFiveNamed(r), "five routes naming nexthop objects");
            var routes = await BirdRoutesAsync(host);
            // What anyone reading the table sees is the route BIRD writes, plus the object's id.
            Assert.True(routes["10.233.68.0/24"] is { Gateway: "172.16.0.2", Dev: "eth0", IsOnlink: false }, routes["10.233.68.0/24"].ToString());
            Assert.True(routes["10.233.70.0/24"] is { Gateway: "172.16.0.120", Dev: "tunl0", IsOnlink: true }, routes["10.233.70.0/24"].ToString());
            Assert.Equal(["172.16.0.2", "172.16.0.3"], routes["10.233.71.0/24"].MultipathGateways.Order());
            Assert.Equal(routes["10.233.68.0/24"].NexthopId, routes["10.233.69.0/24"].NexthopId);
            Assert.Equal(routes["10.233.71.0/24"].NexthopId, routes["10.233.72.0/24"].NexthopId);

            // Four objects of ours: 172.16.0.2 and .3 on eth0, .120 onlink on tunl0, and the group of the first two.
            var nexthops = await host.NexthopsAsync();
            Assert.True(nexthops.Count == 4 && nexthops.All(n => n.Protocol == "bird"), await DescribeAsync(host));
            var single = Assert.Single(nexthops, n => n.Id == routes["10.233.68.0/24"].NexthopId);
            Assert.Equal(("172.16.0.2", "eth0"), (single.Gateway, single.Dev));
            var onlink = Assert.Single(nexthops, n => n.Id == routes["10.233.70.0/24"].NexthopId);
            Assert.Contains("onlink", onlink.Flags);
            var group = Assert.Single(nexthops, n => n.Id == routes["10.233.71.0/24"].NexthopId);
            Assert.Equal(2, group.Group.Count);
            Assert.Contains(group.Group, m => m.Id == single.Id);
            // The count for metrics follows once the write's results are taken in (a moment after the kernel has them).
            await Wait.UntilAsync(() => Task.FromResult(kernel.Counters.NexthopObjects == 4), Soon, "four nexthop objects counted");

            // The multipath routes and the tunnel route go: the next scan removes the objects no route names.
            foreach (var p in (string[])["10.233.71.0/24", "10.233.72.0/24"])
            {
                table.Withdraw(Prefix.Parse(p), a);
                table.Withdraw(Prefix.Parse(p), b);
            }
            table.Withdraw(Prefix.Parse("10.233.70.0/24"), a);
            await WaitForAsync(host, (r, n) => r.Count == 2 && n.Count == 1 && n[0].Id == single.Id, "only 172.16.0.2's object left");
            await Wait.UntilAsync(() => Task.FromResult(kernel.Counters.NexthopObjects == 1), Soon, "one nexthop object counted");
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
        // Without persist, the routes and then the objects go on stop.
        Assert.Empty(await BirdRoutesAsync(host));
        Assert.Empty(await host.NexthopsAsync());
    }

    [Fact]
    public async Task An_object_removed_or_shrunk_by_hand_is_repaired_by_the_next_scan()
    {
        var (lab, host) = await KernelNamespaceTests.NodeAsync("nhobj-drift");
        await using var _ = lab;
        var table = new RoutingTable();
        Fill(table);
        var kernel = Kernel(table, host);
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            await WaitForAsync(host, (r, _) => AllFiveNamed(r), "five routes naming nexthop objects");
            var routes = await BirdRoutesAsync(host);
            var nexthops = await host.NexthopsAsync();
            var viaThree = Assert.Single(nexthops, n => n.Gateway == "172.16.0.3").Id;
            var viaTwo = routes["10.233.68.0/24"].NexthopId!.Value;

            // Removing 172.16.0.2's object takes the kernel's routes through it along (all but the
            // tunnel route); removing .3's shrinks the group to one member. The scan puts back every
            // route as wanted, through objects that hold what they name.
            (await host.IpAsync("nexthop", "del", "id", $"{viaThree}")).ThrowIfFailed("nexthop del .3");
            (await host.IpAsync("nexthop", "del", "id", $"{viaTwo}")).ThrowIfFailed("nexthop del .2");
            await WaitForAsync(host, (r, n) => AllFiveNamed(r) && r["10.233.68.0/24"].Gateway == "172.16.0.2"
                && r["10.233.71.0/24"].MultipathGateways.Order().SequenceEqual(["172.16.0.2", "172.16.0.3"])
                && n.All(x => x.Id != viaTwo && x.Id != viaThree), "routes repaired through new objects");
            Assert.True(kernel.Counters.Repairs > 0);
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_restart_with_persist_names_the_same_objects_and_rewrites_nothing()
    {
        var (lab, host) = await KernelNamespaceTests.NodeAsync("nhobj-restart");
        await using var _ = lab;
        var table = new RoutingTable();
        Fill(table);
        var first = Kernel(table, host, persist: true);
        await first.StartAsync(CancellationToken.None);
        await WaitForAsync(host, (r, _) => AllFiveNamed(r), "five routes naming nexthop objects");
        await first.StopAsync(CancellationToken.None);
        var before = await BirdRoutesAsync(host);
        var objects = await host.NexthopsAsync();
        Assert.Equal(5, before.Count);
        Assert.Equal(4, objects.Count);

        await using var monitor = new RouteMonitor(host.Netns);
        var second = Kernel(table, host, persist: true);
        await second.StartAsync(CancellationToken.None);
        try
        {
            // Two scans pass (scan time 1 s): the routes match, their objects are adopted, not replaced.
            await Task.Delay(2500);
            Assert.True(monitor.Events.Count == 0, string.Join("\n", monitor.Describe()));
            Assert.Equal(0, second.Counters.Writes);
            var after = await BirdRoutesAsync(host);
            Assert.Equal(before.ToDictionary(r => r.Key, r => r.Value.NexthopId), after.ToDictionary(r => r.Key, r => r.Value.NexthopId));
            Assert.Equal(objects.Select(n => n.Id).Order(), (await host.NexthopsAsync()).Select(n => n.Id).Order());

            // A new route through a gateway already held names the adopted object.
            table.Update(TestRoutes.Bgp(table, new TestProtocol(table, "Mesh_c"), "10.233.73.0/24", "172.16.0.2"));
            await WaitForAsync(host, (r, _) => r.TryGetValue("10.233.73.0/24", out var n) && n.NexthopId == before["10.233.68.0/24"].NexthopId, "the new route names the adopted object");
        }
        finally
        {
            await second.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Six_hundred_new_gateways_in_one_batch_each_get_their_object()
    {
        // More gateways than one sendmsg of device lookups holds (a mesh of hundreds of nodes coming up at once).
        var (lab, host) = await KernelNamespaceTests.NodeAsync("nhobj-many");
        await using var _ = lab;
        await host.AddAddressAsync("eth0", "172.20.0.1/22");
        var table = new RoutingTable();
        var owner = new TestProtocol(table, "Mesh_many");
        const int Count = 600;
        for (var i = 0; i < Count; i++)
            table.Update(TestRoutes.Bgp(table, owner, $"10.{100 + i / 256}.{i % 256}.0/24", $"172.20.{(i + 2) / 256}.{(i + 2) % 256}"));
        var kernel = Kernel(table, host);
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            await WaitForAsync(host, (r, n) => r.Count == Count && r.Values.All(x => x.NexthopId is not null && x.Dev == "eth0") && n.Count == Count,
                "600 routes, each naming its own gateway's object");
            var nexthops = (await host.NexthopsAsync()).ToDictionary(n => n.Id);
            Assert.All((await BirdRoutesAsync(host)).Values, r => Assert.Equal(r.Gateway, nexthops[r.NexthopId!.Value].Gateway));
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
        Assert.Empty(await host.NexthopsAsync());
    }

    [Fact]
    public async Task With_nexthop_objects_off_routes_carry_their_own_gateways()
    {
        var (lab, host) = await KernelNamespaceTests.NodeAsync("nhobj-off");
        await using var _ = lab;
        var table = new RoutingTable();
        Fill(table);
        var kernel = Kernel(table, host, nexthopObjects: false);
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            await WaitForAsync(host, (r, _) => r.Count == 5 && r["10.233.71.0/24"].MultipathGateways.Count == 2, "five routes");
            Assert.All((await BirdRoutesAsync(host)).Values, r => Assert.Null(r.NexthopId));
            Assert.Empty(await host.NexthopsAsync());
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
    }
}
