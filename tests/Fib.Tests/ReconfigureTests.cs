using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Fib.Static;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Fib.Tests;

/// <summary>Reloads that change only a kernel export filter or static routes: updated in place, the kernel written only where its routes change.</summary>
public sealed class ReconfigureTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(5);

    /// <summary>Rejects one prefix and gives another a metric; the rest passes unchanged.</summary>
    private sealed class EditingFilter(string reject, string metricFor, uint metric) : RouteFilter
    {
        public override string Name => "editing";

        public override Route? Apply(Route route, AttributeCache cache)
        {
            if (route.Prefix == Prefix.Parse(reject))
                return null;
            if (route.Prefix == Prefix.Parse(metricFor))
                return route.WithAttributes(cache.Intern(route.Attributes with { KrtMetric = metric }));
            return route;
        }
    }

    [Fact]
    public async Task A_new_kernel_export_filter_rewrites_only_the_routes_it_changes()
    {
        var fake = new FakeRouteNetlink();
        var table = new RoutingTable();
        var bgp = new TestProtocol(table);
        foreach (var p in new[] { "10.1.0.0/24", "10.2.0.0/24", "10.3.0.0/24" })
            table.Update(TestRoutes.Bgp(table, bgp, p, "172.16.0.2"));
        var kernel = new KernelProtocol(new KernelProtocolOptions { Name = "kernel1", ExportFilter = RouteFilter.AcceptAll, ScanTime = 60, Persist = true },
            table, TimeProvider.System, NullLoggerFactory.Instance, () => fake);
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            await Wait.UntilAsync(() => fake.Routes.Count == 3, Soon, "three routes installed");
            fake.ClearWrites();

            Assert.True(kernel.ReconfigureExport(new EditingFilter("10.2.0.0/24", "10.3.0.0/24", 77)));

            await Wait.UntilAsync(() => fake.Find("10.2.0.0/24") is null && fake.Find("10.3.0.0/24")?.Metric == 77, Soon, "10.2 removed, 10.3 with metric 77");
            await Task.Delay(300);
            // The metric is part of the kernel's key: 10.3 is a delete and an add; 10.1 is not touched.
            var writes = fake.Writes.Select(w => (w.Kind, w.Route.Prefix.ToString())).OrderBy(w => w.Item2).ThenBy(w => w.Kind).ToList();
            Assert.DoesNotContain(writes, w => w.Item2 == "10.1.0.0/24");
            Assert.Contains((RouteChangeKind.Delete, "10.2.0.0/24"), writes);
            Assert.Contains((RouteChangeKind.Add, "10.3.0.0/24"), writes);
            Assert.Equal(2, kernel.Stats.Exported);
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task An_equal_kernel_export_filter_is_no_change()
    {
        var fake = new FakeRouteNetlink();
        var table = new RoutingTable();
        var kernel = new KernelProtocol(new KernelProtocolOptions { Name = "kernel1", ExportFilter = RouteFilter.AcceptAll, ScanTime = 60 },
            table, TimeProvider.System, NullLoggerFactory.Instance, () => fake);
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            Assert.False(kernel.ReconfigureExport(RouteFilter.AcceptAll));
            Assert.Same(RouteFilter.AcceptAll, kernel.Options.ExportFilter);
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
    }

    private static StaticProtocolOptions Statics(params string[] blackholes) => new()
    {
        Name = "static1",
        Routes = [.. blackholes.Select(b => new StaticRoute(Prefix.Parse(b), RouteDest.Blackhole))],
    };

    [Fact]
    public async Task Static_routes_added_and_removed_in_place_leave_the_others_untouched()
    {
        var table = new RoutingTable();
        var statics = new StaticProtocol(Statics("10.9.1.0/24", "10.9.2.0/24"), table, TimeProvider.System, NullLoggerFactory.Instance, () => new FakeRouteNetlink());
        await statics.StartAsync(CancellationToken.None);
        try
        {
            var kept = table.Find(Prefix.Parse("10.9.2.0/24"))!.Best!;
            var version = table.Find(Prefix.Parse("10.9.2.0/24"))!.Version;

            Assert.True(statics.TryReconfigure(Statics("10.9.2.0/24", "10.9.3.0/24")));

            Assert.Null(table.Find(Prefix.Parse("10.9.1.0/24")));
            Assert.NotNull(table.Find(Prefix.Parse("10.9.3.0/24")));
            Assert.Same(kept, table.Find(Prefix.Parse("10.9.2.0/24"))!.Best);
            Assert.Equal(version, table.Find(Prefix.Parse("10.9.2.0/24"))!.Version);
            Assert.Equal(2, statics.Stats.Imported);
            Assert.Equal(ProtocolState.Up, statics.State);
        }
        finally
        {
            await statics.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Static_changes_that_need_other_machinery_ask_for_a_restart()
    {
        var table = new RoutingTable();
        var statics = new StaticProtocol(Statics("10.9.1.0/24"), table, TimeProvider.System, NullLoggerFactory.Instance, () => new FakeRouteNetlink());
        await statics.StartAsync(CancellationToken.None);
        try
        {
            Assert.False(statics.TryReconfigure(Statics("10.9.1.0/24") with { Preference = 10 }));
            // A `via` route needs the gateway check, which a protocol started with blackholes alone does not run.
            var via = Statics("10.9.1.0/24") with { Routes = [new StaticRoute(Prefix.Parse("10.9.5.0/24"), RouteDest.Router, IpAddr.Parse("172.16.0.2"))] };
            Assert.False(statics.TryReconfigure(via));
            Assert.NotNull(table.Find(Prefix.Parse("10.9.1.0/24")));
        }
        finally
        {
            await statics.StopAsync(CancellationToken.None);
        }
    }
}
