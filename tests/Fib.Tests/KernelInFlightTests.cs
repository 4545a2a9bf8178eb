using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Fib.Tests;

/// <summary>
/// Changes of a prefix whose write is still in flight, and writes that fail whole, against an
/// in-memory kernel (<see cref="FakeRouteNetlink"/>): the view's marks (seen, pending) and counts.
/// </summary>
public sealed class KernelInFlightTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);

    private static KernelProtocol Kernel(RoutingTable table, FakeRouteNetlink fake, int scanTime = 60)
    {
        var options = new KernelProtocolOptions { Name = "kernel1", ExportFilter = RouteFilter.AcceptAll, ScanTime = scanTime, Persist = true };
        return new KernelProtocol(options, table, TimeProvider.System, NullLoggerFactory.Instance, () => fake);
    }

    [Fact]
    public async Task A_prefix_withdrawn_while_its_add_is_in_flight_is_deleted_once_the_add_answers()
    {
        const int Batch = HeldInitialFeed.Batch;
        var x = Prefix.Parse("10.0.100.0/24");
        var fake = new FakeRouteNetlink();
        var table = new RoutingTable();
        var bgp = new TestProtocol(table);
        table.Update(TestRoutes.Bgp(table, bgp, "10.255.0.0/24", "172.16.0.2"));
        // The withdrawal lands in the journal while the loop plans x's add (after its batch was read),
        // so the next batch meets it while that add is still being written.
        var filter = new WithdrawOnce(x, () => table.Withdraw(x, bgp));
        var options = new KernelProtocolOptions { Name = "kernel1", ExportFilter = filter, ScanTime = 60, Persist = true };
        var kernel = new KernelProtocol(options, table, TimeProvider.System, NullLoggerFactory.Instance, () => fake);
        var feed = new HeldInitialFeed();
        fake.BeforeWrite = _ => feed.BeforeWriteAsync();
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            await feed.BurstAsync(table, bgp, Soon);

            await Wait.UntilAsync(() => kernel.Counters.RoutesInstalled == Batch && fake.Routes.Count == Batch, Soon, "every route but x");
            Assert.Null(fake.Find(x.ToString()));
            Assert.Equal([RouteChangeKind.Add, RouteChangeKind.Delete], fake.Writes.Where(w => w.Route.Prefix == x).Select(w => w.Kind));
            Assert.Equal(Batch, kernel.Stats.Exported);
            Assert.Empty(kernel.Counters.WriteErrorsByErrno);
        }
        finally
        {
            feed.Release();
            await kernel.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>Accepts every route; the first time it sees <paramref name="prefix"/> it runs <paramref name="then"/>.</summary>
    private sealed class WithdrawOnce(Prefix prefix, Action then) : RouteFilter
    {
        private int _done;

        public override string Name => "withdraw-once";

        public override Route? Apply(Route route, AttributeCache cache)
        {
            if (route.Prefix == prefix && Interlocked.Exchange(ref _done, 1) == 0)
                then();
            return route;
        }
    }

    [Fact]
    public async Task A_write_that_fails_whole_is_repaired_by_the_scan_and_its_prefixes_plan_again()
    {
        var fake = new FakeRouteNetlink();
        var failures = 1;
        fake.BeforeWrite = _ => Interlocked.Decrement(ref failures) >= 0
            ? Task.FromException(new NetlinkException(Errno.Enetunreach, "the test's socket failed"))
            : Task.CompletedTask;
        var table = new RoutingTable();
        var bgp = new TestProtocol(table);
        var kernel = Kernel(table, fake, scanTime: 1);
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            table.Update(TestRoutes.Bgp(table, bgp, "10.1.0.0/24", "172.16.0.2"));
            table.Update(TestRoutes.Bgp(table, bgp, "10.2.0.0/24", "172.16.0.2"));
            // The first write failed as a whole (nothing applied); the scan after the pause writes it again.
            await Wait.UntilAsync(() => fake.Find("10.1.0.0/24") is not null && fake.Find("10.2.0.0/24") is not null, Soon, "both routes after the failed write");
            Assert.True(Volatile.Read(ref failures) < 0);
            await Wait.UntilAsync(() => kernel.Counters.RoutesInstalled == 2, Soon, "two routes counted");

            // Its prefixes are not left waiting for an answer that never comes: a withdrawal goes out.
            table.Withdraw(Prefix.Parse("10.1.0.0/24"), bgp);
            await Wait.UntilAsync(() => fake.Find("10.1.0.0/24") is null, Soon, "10.1 deleted");
            await Wait.UntilAsync(() => kernel.Counters.RoutesInstalled == 1 && kernel.Stats.Exported == 1, Soon, "counts of one route");
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_route_of_ours_gone_from_the_kernel_leaves_the_view_and_a_wanted_one_is_put_back()
    {
        var fake = new FakeRouteNetlink();
        var table = new RoutingTable();
        var bgp = new TestProtocol(table);
        var kernel = Kernel(table, fake, scanTime: 1);
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            table.Update(TestRoutes.Bgp(table, bgp, "10.1.0.0/24", "172.16.0.2"));
            table.Update(TestRoutes.Bgp(table, bgp, "10.2.0.0/24", "172.16.0.2"));
            await Wait.UntilAsync(() => kernel.Counters.RoutesInstalled == 2, Soon, "two routes installed");
            var scans = kernel.Counters.Scans;
            // Someone deletes one of ours behind our back: the next scan reads it gone and writes it again.
            fake.Remove("10.1.0.0/24");
            await Wait.UntilAsync(() => kernel.Counters.Repairs >= 1 && fake.Find("10.1.0.0/24") is not null, Soon, "10.1 repaired");
            Assert.True(kernel.Counters.Scans > scans);
            await Wait.UntilAsync(() => kernel.Counters.RoutesInstalled == 2, Soon, "two routes counted");
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
    }
}
