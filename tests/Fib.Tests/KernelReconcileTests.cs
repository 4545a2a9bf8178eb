using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Fib.Tests;

/// <summary>The kernel protocol's reconcile logic against an in-memory kernel (<see cref="FakeRouteNetlink"/>).</summary>
public sealed class KernelReconcileTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(5);
    private static readonly IpAddr Peer = IpAddr.Parse("172.16.0.2");

    private static KernelRouteSpec Ours(string prefix, string? via = "172.16.0.2", uint? metric = null) => new()
    {
        Prefix = Prefix.Parse(prefix),
        Gateway = via is null ? null : IpAddr.Parse(via),
        Metric = metric,
    };

    private static KernelProtocol Kernel(RoutingTable table, FakeRouteNetlink fake, Func<KernelProtocolOptions, KernelProtocolOptions>? tweak = null)
    {
        var options = new KernelProtocolOptions { Name = "kernel1", ExportFilter = RouteFilter.AcceptAll, ScanTime = 60, Persist = true };
        return new KernelProtocol(tweak?.Invoke(options) ?? options, table, TimeProvider.System, NullLoggerFactory.Instance, () => fake);
    }

    [Fact]
    public async Task Start_writes_only_the_difference_between_desired_and_actual()
    {
        var fake = new FakeRouteNetlink();
        fake.Seed(Ours("10.1.0.0/24"));                                         // already right
        fake.Seed(Ours("10.2.0.0/24", via: "172.16.0.9"));                      // wrong gateway
        fake.Seed(Ours("10.3.0.0/24"));                                         // ours, not wanted
        fake.Seed(Ours("10.4.0.0/24") with { Protocol = Rtnl.ProtoStatic });    // someone else's
        var table = new RoutingTable();
        var bgp = new TestProtocol(table);
        table.Update(TestRoutes.Bgp(table, bgp, "10.1.0.0/24", "172.16.0.2"));
        table.Update(TestRoutes.Bgp(table, bgp, "10.2.0.0/24", "172.16.0.2"));
        table.Update(TestRoutes.Bgp(table, bgp, "10.5.0.0/24", "172.16.0.2"));
        var kernel = Kernel(table, fake);
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            await Wait.UntilAsync(() => fake.Writes.Count >= 3, Soon, "three writes");
            await Task.Delay(200);
            var writes = fake.Writes.Select(w => (w.Kind, w.Route.Prefix.ToString())).OrderBy(w => w.Item2).ToList();
            Assert.Equal(
            [
                (RouteChangeKind.Replace, "10.2.0.0/24"),
                (RouteChangeKind.Delete, "10.3.0.0/24"),
                (RouteChangeKind.Add, "10.5.0.0/24"),
            ], writes);
            Assert.Equal(Peer, fake.Find("10.2.0.0/24")!.Gateway);
            Assert.Equal(Rtnl.ProtoStatic, fake.Find("10.4.0.0/24")!.Protocol);
            Assert.Equal(3, kernel.Counters.RoutesInstalled);
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_metric_change_deletes_the_old_route_and_adds_the_new_one()
    {
        var fake = new FakeRouteNetlink();
        var table = new RoutingTable();
        var bgp = new TestProtocol(table);
        var kernel = Kernel(table, fake);
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            table.Update(TestRoutes.Bgp(table, bgp, "10.1.0.0/24", "172.16.0.2", metric: 10));
            await Wait.UntilAsync(() => fake.Find("10.1.0.0/24") is { Metric: 10 }, Soon, "metric 10 installed");
            fake.ClearWrites();
            table.Update(TestRoutes.Bgp(table, bgp, "10.1.0.0/24", "172.16.0.2", metric: 20));
            await Wait.UntilAsync(() => fake.Find("10.1.0.0/24") is { Metric: 20 }, Soon, "metric 20 installed");
            // The metric is part of the kernel's key: a replace would leave the old route behind.
            Assert.Equal([(RouteChangeKind.Delete, 10u), (RouteChangeKind.Add, 20u)], fake.Writes.Select(w => (w.Kind, w.Route.EffectiveMetric)));
            Assert.Single(fake.Routes);
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_refused_write_is_counted_by_errno_and_retried_at_the_next_scan_while_others_go_in()
    {
        var fake = new FakeRouteNetlink();
        var unreachable = true;
        fake.Refuse = c => unreachable && c.Route.Prefix == Prefix.Parse("10.2.0.0/24") ? Errno.Enetunreach : 0;
        var table = new RoutingTable();
        var bgp = new TestProtocol(table);
        var kernel = Kernel(table, fake, o => o with { ScanTime = 1 });
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            table.Update(TestRoutes.Bgp(table, bgp, "10.1.0.0/24", "172.16.0.2"));
            table.Update(TestRoutes.Bgp(table, bgp, "10.2.0.0/24", "172.16.0.2"));
            await Wait.UntilAsync(() => kernel.Counters.WriteErrorsByErrno.GetValueOrDefault(Errno.Enetunreach) >= 2, Soon, "refusals counted at start and at a scan");
            Assert.NotNull(fake.Find("10.1.0.0/24"));
            Assert.Null(fake.Find("10.2.0.0/24"));
            // A retry is not drift: the scan that retries does not count a repair for it.
            Assert.Equal(0, kernel.Counters.Repairs);

            unreachable = false;
            await Wait.UntilAsync(() => fake.Find("10.2.0.0/24") is not null, Soon, "retried route installed");
            Assert.Equal(1, fake.Writes.Count(w => w.Route.Prefix == Prefix.Parse("10.1.0.0/24")));
            Assert.Equal(2, kernel.Counters.RoutesInstalled);
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Lost_notifications_force_a_full_resync_before_the_scan_timer()
    {
        var fake = new FakeRouteNetlink();
        var table = new RoutingTable();
        var bgp = new TestProtocol(table);
        var kernel = Kernel(table, fake);
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            table.Update(TestRoutes.Bgp(table, bgp, "10.1.0.0/24", "172.16.0.2"));
            await Wait.UntilAsync(() => fake.Find("10.1.0.0/24") is not null, Soon, "installed");
            var scans = kernel.Counters.Scans;
            fake.Remove("10.1.0.0/24");
            fake.Seed(Ours("10.9.0.0/24"));
            fake.Overflow();
            await Wait.UntilAsync(() => fake.Find("10.1.0.0/24") is not null && fake.Find("10.9.0.0/24") is null, Soon, "resync repaired both");
            Assert.Equal(1, kernel.Counters.Resyncs);
            Assert.Equal(scans + 1, kernel.Counters.Scans);
            Assert.Equal(2, kernel.Counters.Repairs);
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Persist_keeps_routes_and_a_held_restart_removes_only_stale_ones_when_recovery_ends()
    {
        var fake = new FakeRouteNetlink();
        var table = new RoutingTable();
        var bgp = new TestProtocol(table);
        table.Update(TestRoutes.Bgp(table, bgp, "10.1.0.0/24", "172.16.0.2"));
        table.Update(TestRoutes.Bgp(table, bgp, "10.2.0.0/24", "172.16.0.2"));
        var first = Kernel(table, fake);
        await first.StartAsync(CancellationToken.None);
        await Wait.UntilAsync(() => fake.Routes.Count == 2, Soon, "both installed");
        await first.StopAsync(CancellationToken.None);
        Assert.Equal(2, fake.Routes.Count);
        Assert.Equal(1, fake.Disposals);

        // The new run's table lacks 10.2 (its peer has not come back yet, or never will).
        table.Withdraw(Prefix.Parse("10.2.0.0/24"), bgp);
        fake.ClearWrites();
        var second = Kernel(table, fake, o => o with { GracefulRestart = true, HoldPrune = true });
        await second.StartAsync(CancellationToken.None);
        try
        {
            await Task.Delay(300);
            Assert.True(second.IsHoldingPrune);
            Assert.Empty(fake.Writes);
            second.EndGracefulRecovery();
            await Wait.UntilAsync(() => fake.Find("10.2.0.0/24") is null, Soon, "stale route removed after recovery");
            Assert.Equal([(RouteChangeKind.Delete, "10.2.0.0/24")], fake.Writes.Select(w => (w.Kind, w.Route.Prefix.ToString())));
            Assert.NotNull(fake.Find("10.1.0.0/24"));
        }
        finally
        {
            await second.StopAsync(CancellationToken.None);
        }
        Assert.NotNull(fake.Find("10.1.0.0/24"));
    }

    [Fact]
    public async Task Without_persist_stopping_removes_our_routes_and_leaves_others()
    {
        var fake = new FakeRouteNetlink();
        fake.Seed(Ours("10.4.0.0/24") with { Protocol = Rtnl.ProtoBoot });
        var table = new RoutingTable();
        var bgp = new TestProtocol(table);
        table.Update(TestRoutes.Of(table, bgp, "10.1.0.0/24", RouteDest.Blackhole));
        var kernel = Kernel(table, fake, o => o with { Persist = false });
        await kernel.StartAsync(CancellationToken.None);
        await Wait.UntilAsync(() => fake.Find("10.1.0.0/24") is { Type: KernelRouteType.Blackhole }, Soon, "installed");
        await kernel.StopAsync(CancellationToken.None);
        Assert.Equal(["10.4.0.0/24"], fake.Routes.Select(r => r.Prefix.ToString()));
    }

    [Fact]
    public async Task An_initial_feed_written_in_overlapping_chunks_installs_every_route_prunes_and_retries_a_refusal()
    {
        // More prefixes than several resync chunks (8192 writes each), so chunks are planned while others are written.
        const int Count = 20_000;
        static string PrefixOf(int i) => $"10.{i >> 8 & 0xFF}.{i & 0xFF}.0/24";
        var fake = new FakeRouteNetlink();
        fake.Seed(Ours("10.200.0.0/24"));                          // ours, not wanted any more
        fake.Seed(Ours(PrefixOf(5), via: "172.16.0.9"));           // ours, wrong gateway
        var refused = Prefix.Parse(PrefixOf(15_000));              // in a later chunk
        var refuse = true;
        fake.Refuse = c => refuse && c.Route.Prefix == refused ? Errno.Enetunreach : 0;
        var table = new RoutingTable();
        var bgp = new TestProtocol(table);
        for (var i = 0; i < Count; i++)
            table.Update(TestRoutes.Bgp(table, bgp, PrefixOf(i), "172.16.0.2"));
        var kernel = Kernel(table, fake, o => o with { ScanTime = 1 });
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            await Wait.UntilAsync(() => kernel.Counters.RoutesInstalled == Count - 1 && fake.Find("10.200.0.0/24") is null, Soon, "every route but the refused one, the stale one pruned");
            Assert.Equal(Peer, fake.Find(PrefixOf(5))!.Gateway);
            Assert.Equal(Count - 1, fake.Routes.Count(r => r.Protocol == Rtnl.ProtoBird));
            // One write per prefix: an add each, the replace of the wrong one, the delete of the stale one.
            var writes = fake.Writes.Where(w => w.Route.Prefix != refused).ToList();
            Assert.Equal(Count - 2, writes.Count(w => w.Kind == RouteChangeKind.Add));
            Assert.Equal([(RouteChangeKind.Replace, PrefixOf(5)), (RouteChangeKind.Delete, "10.200.0.0/24")],
                writes.Where(w => w.Kind != RouteChangeKind.Add).Select(w => (w.Kind, w.Route.Prefix.ToString())).OrderBy(w => w.Item1));

            refuse = false;
            await Wait.UntilAsync(() => fake.Find(PrefixOf(15_000)) is not null, Soon, "the refused route retried by a scan");
            Assert.Equal(Count, kernel.Counters.RoutesInstalled);
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task An_interrupted_dump_forgets_what_it_gave_before_starting_over()
    {
        var fake = new FakeRouteNetlink();
        fake.Seed(Ours("10.1.0.0/24"));
        var table = new RoutingTable();
        var bgp = new TestProtocol(table);
        table.Update(TestRoutes.Bgp(table, bgp, "10.1.0.0/24", "172.16.0.2"));
        // Before the interruption the dump listed a route of ours and an alien one that are gone since.
        fake.InterruptNextDumpAfter = [Ours("10.7.0.0/24"), Ours("10.1.0.0/24"), new KernelRouteSpec { Prefix = Prefix.Parse("10.8.0.0/24"), Gateway = Peer, Protocol = Rtnl.ProtoStatic }];
        var kernel = Kernel(table, fake, o => o with { Learn = true });
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            // The loop's first turn feeds and prunes, then scans: once a scan ran, the start is done.
            kernel.RequestScan();
            await Wait.UntilAsync(() => kernel.Counters.Scans >= 1, Soon, "a scan");
            // Only what the restarted dump read counts: nothing to prune, nothing learned.
            Assert.Equal(1, kernel.Counters.RoutesInstalled);
            Assert.Equal(0, kernel.Counters.RoutesLearned);
            Assert.Null(table.Find(Prefix.Parse("10.8.0.0/24")));
            Assert.Empty(fake.Writes);
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_learned_multipath_route_keeps_every_next_hop()
    {
        var fake = new FakeRouteNetlink();
        fake.Seed(new KernelRouteSpec
        {
            Prefix = Prefix.Parse("10.50.0.0/24"),
            Protocol = Rtnl.ProtoStatic,
            NextHops = [new KernelNextHop(IpAddr.Parse("172.16.0.2"), 2), new KernelNextHop(IpAddr.Parse("172.16.0.3"), 2), new KernelNextHop(IpAddr.Parse("172.16.0.4"), 2)],
        });
        var table = new RoutingTable();
        var kernel = Kernel(table, fake, o => o with { Learn = true, ExportFilter = RouteFilter.RejectAll });
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            var entry = table.Find(Prefix.Parse("10.50.0.0/24"));
            Assert.NotNull(entry);
            Assert.Equal(["172.16.0.2", "172.16.0.3", "172.16.0.4"], entry.Routes.Select(r => r.Attributes.Gateway.ToString()).Order());
            Assert.All(entry.Routes, r => Assert.Equal(("eth0", (byte?)Rtnl.ProtoStatic, kernel), (r.Attributes.Interface, r.Attributes.KrtSource, (KernelProtocol)r.Protocol)));
            Assert.Equal(3, kernel.Stats.Imported);
            Assert.Empty(fake.Writes);
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
        Assert.Null(table.Find(Prefix.Parse("10.50.0.0/24")));
    }
}
