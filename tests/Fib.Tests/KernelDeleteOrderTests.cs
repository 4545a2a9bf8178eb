using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Fib.Tests;

/// <summary>
/// Bulk deletes (stop without persist, prune) go to the kernel scattered over its trie rather than
/// in the order the routes were added (lowest first), which the kernel deletes in about half the
/// CPU; every route still goes, and routes not ours stay.
/// </summary>
public sealed class KernelDeleteOrderTests
{
    private const int Routes = 2000;
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(30);

    private static async Task<(TestLab Lab, LabHost Host)> NodeAsync(string name)
    {
        var lab = await TestLab.CreateAsync(name);
        var host = await lab.AddHostAsync("node");
        var peer = await lab.AddHostAsync("peer");
        await lab.ConnectAsync(host, "172.16.0.1/24", peer, "172.16.0.2/24", "eth0", "eth0");
        return (lab, host);
    }

    private static string PrefixText(int i) => $"10.{40 + (i >> 8)}.{i & 0xFF}.0/24";

    private static KernelProtocol Kernel(RoutingTable table, LabHost host) =>
        new(new KernelProtocolOptions { Name = "kernel1", ExportFilter = RouteFilter.AcceptAll, ScanTime = 60, Persist = false }, table, TimeProvider.System, NullLoggerFactory.Instance, host.Netns);

    private static async Task<int> OursAsync(LabHost host) => (await host.RoutesAsync()).Count(r => r.Protocol == "bird");

    /// <summary>
    /// Of the deletes of ours heard, the share whose prefix is above the one deleted 64 before (1.0 =
    /// lowest first, about 0.5 scattered). At the trie's scale, not neighbour to neighbour: the table's
    /// own order deletes four neighbouring prefixes in a row (they share a home in its map) and the
    /// groups scattered, which the kernel takes as fast as any scattered order.
    /// </summary>
    private static double AscendingShare(RouteMonitor monitor)
    {
        var deleted = monitor.Events.Where(e => e.Type == Rtnl.DelRoute && e.Route.Protocol == Rtnl.ProtoBird).Select(e => e.Route.Prefix).ToList();
        Assert.Equal(Routes, deleted.Count);
        Assert.Equal(Routes, deleted.Distinct().Count());
        return UpShare(deleted, 64);
    }

    /// <summary>The share of <paramref name="prefixes"/> above the one <paramref name="distance"/> before (about 0.5 scattered).</summary>
    private static double UpShare(List<Prefix> prefixes, int distance) =>
        (double)prefixes.Skip(distance).Zip(prefixes).Count(p => p.First.CompareTo(p.Second) > 0) / (prefixes.Count - distance);

    private static double UpShare(List<RouteChange> changes, int distance) => UpShare([.. changes.Select(c => c.Route.Prefix)], distance);

    [Fact]
    public void Scatter_keeps_every_delete_and_breaks_the_ascending_order()
    {
        var deletes = Enumerable.Range(0, Routes).Select(i => RouteChange.Delete(new KernelRouteSpec { Prefix = Prefix.Parse(PrefixText(i)) })).ToList();
        var before = deletes.Select(d => d.Route.Prefix).ToHashSet();

        KernelDeleteOrder.Scatter(deletes);

        Assert.Equal(Routes, deletes.Count);
        Assert.True(before.SetEquals(deletes.Select(d => d.Route.Prefix)));
        Assert.All(deletes, d => Assert.Equal(RouteChangeKind.Delete, d.Kind));
        var up = deletes.Zip(deletes.Skip(1)).Count(p => p.Second.Route.Prefix.CompareTo(p.First.Route.Prefix) > 0);
        Assert.InRange((double)up / (Routes - 1), 0.3, 0.7);
    }

    [Fact]
    public void Scatter_breaks_an_order_of_short_descending_runs_that_ascend_from_run_to_run()
    {
        // As a view filled from journal batches of three, each planned newest first: 2 1 0, 5 4 3, ...
        // (two in three neighbours go down: not "three in four the same way" neighbour to neighbour).
        var deletes = Enumerable.Range(0, Routes - Routes % 3).Select(i => RouteChange.Delete(new KernelRouteSpec { Prefix = Prefix.Parse(PrefixText(i / 3 * 3 + 2 - i % 3)) })).ToList();
        var before = deletes.Select(d => d.Route.Prefix).ToHashSet();

        KernelDeleteOrder.Scatter(deletes);

        Assert.True(before.SetEquals(deletes.Select(d => d.Route.Prefix)));
        // Scattered at every scale: half of the neighbours and half of the deletes 64 apart go up.
        Assert.InRange(UpShare(deletes, 1), 0.3, 0.7);
        Assert.InRange(UpShare(deletes, 64), 0.3, 0.7);
    }

    [Fact]
    public void Scatter_keeps_a_metric_changes_delete_before_its_add()
    {
        var changes = Enumerable.Range(0, Routes).Select(i => RouteChange.Delete(new KernelRouteSpec { Prefix = Prefix.Parse(PrefixText(i)) })).ToList();
        var moved = new KernelRouteSpec { Prefix = Prefix.Parse(PrefixText(7)), Metric = 20 };
        changes[7] = RouteChange.Delete(new KernelRouteSpec { Prefix = moved.Prefix, Metric = 10 });
        changes.Insert(8, RouteChange.Add(moved));

        KernelDeleteOrder.Scatter(changes);

        Assert.Equal([RouteChangeKind.Delete, RouteChangeKind.Add], changes.Where(c => c.Route.Prefix == moved.Prefix).Select(c => c.Kind));
        Assert.Equal(Routes + 1, changes.Count);
        Assert.NotEqual(Prefix.Parse(PrefixText(1)), changes[1].Route.Prefix);
    }

    [Fact]
    public void Scatter_leaves_small_writes_and_adds_as_they_are_and_scatters_any_order_of_many_deletes()
    {
        List<RouteChange> Deletes(IEnumerable<int> order) => [.. order.Select(i => RouteChange.Delete(new KernelRouteSpec { Prefix = Prefix.Parse(PrefixText(i)) }))];
        var small = Deletes(Enumerable.Range(0, KernelDeleteOrder.ScatterFrom - 1));
        var adds = Enumerable.Range(0, Routes).Select(i => RouteChange.Add(new KernelRouteSpec { Prefix = Prefix.Parse(PrefixText(i)) })).ToList();
        foreach (var changes in new[] { small, adds })
        {
            var before = changes.ToList();
            KernelDeleteOrder.Scatter(changes);
            Assert.Equal(before, changes);
        }

        // Runs of a few hundred, each descending, ascending from run to run (a view filled from journal
        // batches of that size, each planned newest first): no scale at which it looks ordered.
        var runs = Deletes(Enumerable.Range(0, Routes).Select(i => i / 250 * 250 + 249 - i % 250));
        KernelDeleteOrder.Scatter(runs);
        Assert.InRange(UpShare(runs, 1), 0.3, 0.7);
        Assert.InRange(UpShare(runs, 64), 0.3, 0.7);

        // Highest first is as slow for the kernel as lowest first: scattered too.
        var reverse = Deletes(Enumerable.Range(0, Routes).Reverse());
        KernelDeleteOrder.Scatter(reverse);
        var down = reverse.Zip(reverse.Skip(1)).Count(p => p.Second.Route.Prefix.CompareTo(p.First.Route.Prefix) < 0);
        Assert.InRange((double)down / (Routes - 1), 0.3, 0.7);
    }

    [Fact]
    public async Task Stop_without_persist_deletes_every_route_of_ours_scattered_and_leaves_the_others()
    {
        var (lab, host) = await NodeAsync("kernel-stop-order");
        await using var _ = lab;
        (await host.IpAsync("route", "add", "10.99.0.0/24", "via", "172.16.0.2", "proto", "static")).ThrowIfFailed("alien route");
        var table = new RoutingTable();
        var bgp = new TestProtocol(table);
        var kernel = Kernel(table, host);
        await kernel.StartAsync(CancellationToken.None);
        var stopped = false;
        try
        {
            // Fed lowest first, so the view holds them in ascending order.
            for (var i = 0; i < Routes; i++)
                table.Update(TestRoutes.Bgp(table, bgp, PrefixText(i), "172.16.0.2"));
            await Wait.UntilAsync(async () => await OursAsync(host) == Routes, Soon, $"{Routes} routes of ours", () => host.RoutesTextAsync());

            await using var monitor = new RouteMonitor(host.Netns);
            await kernel.StopAsync(CancellationToken.None);
            stopped = true;

            Assert.Equal(0, await OursAsync(host));
            Assert.Contains(await host.RoutesAsync(), r => r is { Dst: "10.99.0.0/24", Protocol: "static" });
            await Wait.UntilAsync(() => Task.FromResult(monitor.Events.Count(e => e.Type == Rtnl.DelRoute) >= Routes), Soon, "every delete heard", () => Task.FromResult(string.Join('\n', monitor.Describe().TakeLast(5))));
            Assert.InRange(AscendingShare(monitor), 0.3, 0.7);
        }
        finally
        {
            if (!stopped)
                await kernel.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Prune_after_the_first_feed_deletes_stale_routes_of_ours_scattered_and_keeps_the_wanted_one()
    {
        var (lab, host) = await NodeAsync("kernel-prune-order");
        await using var _ = lab;
        // Routes of ours left behind by an earlier run, written lowest first.
        using (var nl = RtNetlinkClient.Open(host.Netns))
        {
            var eth0 = (await nl.DumpLinksAsync(CancellationToken.None)).Single(l => l.Name == "eth0").Index;
            var gw = IpAddr.Parse("172.16.0.2");
            var added = await nl.ApplyAsync([.. Enumerable.Range(0, Routes).Select(i => RouteChange.Add(new KernelRouteSpec { Prefix = Prefix.Parse(PrefixText(i)), Gateway = gw, OutInterfaceIndex = eth0 }))], CancellationToken.None);
            Assert.All(added, r => Assert.True(r.IsOk, r.ToString()));
        }
        var table = new RoutingTable();
        var bgp = new TestProtocol(table);
        table.Update(TestRoutes.Bgp(table, bgp, "10.98.0.0/24", "172.16.0.2"));
        await using var monitor = new RouteMonitor(host.Netns);
        var kernel = Kernel(table, host);
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            await Wait.UntilAsync(async () => (await host.RoutesAsync()).Where(r => r.Protocol == "bird").Select(r => r.Dst).SequenceEqual(["10.98.0.0/24"]), Soon,
                "only the wanted route of ours left", () => host.RoutesTextAsync());
            await Wait.UntilAsync(() => Task.FromResult(monitor.Events.Count(e => e.Type == Rtnl.DelRoute) >= Routes), Soon, "every delete heard", () => Task.FromResult(string.Join('\n', monitor.Describe().TakeLast(5))));
            Assert.InRange(AscendingShare(monitor), 0.3, 0.7);
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
    }
}
