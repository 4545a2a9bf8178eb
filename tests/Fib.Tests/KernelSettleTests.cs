using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Fib.Tests;

/// <summary>
/// The kernel protocol's export settle, held per prefix (against an in-memory kernel,
/// <see cref="FakeRouteNetlink"/>): a change of a route in the kernel is written once the prefix has
/// been still for the settle time, while the rest of the table may go on changing (a new prefix's
/// first path at once, and the ECMP paths after it in one more write, is KernelJournalTests' new-prefix test).
/// </summary>
public sealed class KernelSettleTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(20);

    private static KernelProtocol Kernel(RoutingTable table, FakeRouteNetlink fake, TimeSpan settleMax) =>
        new(new KernelProtocolOptions
        {
            Name = "kernel1",
            ExportFilter = RouteFilter.AcceptAll,
            MergePaths = true,
            ScanTime = 60,
            Persist = true,
            ExportSettleMin = TimeSpan.FromMilliseconds(200),
            ExportSettleMax = settleMax,
        }, table, TimeProvider.System, NullLoggerFactory.Instance, () => fake);

    [Fact]
    public async Task A_prefix_that_is_still_is_written_while_other_prefixes_keep_the_table_changing()
    {
        var fake = new FakeRouteNetlink();
        var table = new RoutingTable();
        var bgp = new TestProtocol(table);
        // A settle maximum beyond the test's reach: only the prefix's own stillness can let it through.
        var kernel = Kernel(table, fake, TimeSpan.FromMinutes(5));
        // In the kernel before the test's changes: a change of a route that is there is held (a new
        // prefix with one path would be written at once, KernelJournalTests).
        const int others = 500;
        table.Update(TestRoutes.Bgp(table, bgp, "10.0.0.0/24", "172.16.0.2"));
        for (var i = 0; i < others; i++)
            table.Update(TestRoutes.Bgp(table, bgp, Other(i), "172.16.0.2"));
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            await Wait.UntilAsync(() => fake.Routes.Count == others + 1, Soon, "the initial feed");
            fake.ClearWrites();
            table.Update(TestRoutes.Bgp(table, bgp, "10.0.0.0/24", "172.16.0.3"));
            // Other prefixes change every 20 ms (well inside the 200 ms settle step): the table is never
            // still for a settle step, as a table-wide settle would need before writing anything.
            var changed = 0;
            var deadline = DateTime.UtcNow + Soon;
            while (!Moved("10.0.0.0/24") && DateTime.UtcNow < deadline && changed < others)
            {
                table.Update(TestRoutes.Bgp(table, bgp, Other(changed++), "172.16.0.3"));
                await Task.Delay(20);
            }
            Assert.True(Moved("10.0.0.0/24"), $"not written while {changed} other prefixes changed");
            // Held for its settle step, so the table had changed again before it was written.
            Assert.True(changed >= 1, "written before the table changed again");

            // The others follow once each has been still; each prefix is written once.
            await Wait.UntilAsync(() => Enumerable.Range(0, changed).All(i => Moved(Other(i))), Soon, "every changed prefix written");
            Assert.Equal(changed + 1, fake.Writes.Count);
            Assert.Equal(fake.Writes.Count, fake.Writes.Select(w => w.Route.Prefix).Distinct().Count());
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }

        bool Moved(string prefix) => fake.Find(prefix)?.Gateway == IpAddr.Parse("172.16.0.3");
    }

    private static string Other(int i) => $"10.1.{i / 256}.{i % 256}/32";

    /// <summary>
    /// Flips a prefix's next hop every 20 ms, never still for the kernel protocol's settle step, until the
    /// kernel (a fake) has it: true when it was written within the test's reach.
    /// </summary>
    private static async Task<bool> FlippingPrefixIsWrittenAsync(bool mergePaths, TimeSpan settleMin, TimeSpan settleMax)
    {
        var fake = new FakeRouteNetlink();
        var table = new RoutingTable();
        var bgp = new TestProtocol(table);
        var kernel = new KernelProtocol(new KernelProtocolOptions
        {
            Name = "kernel1",
            ExportFilter = RouteFilter.AcceptAll,
            MergePaths = mergePaths,
            ScanTime = 600,
            Persist = true,
            ExportSettleMin = settleMin,
            ExportSettleMax = settleMax,
        }, table, TimeProvider.System, NullLoggerFactory.Instance, () => fake);
        // In the kernel first, so the flips are changes of a route that is there (a new prefix's first
        // path is written at once whatever the settle).
        var start = IpAddr.Parse("172.16.0.4");
        table.Update(TestRoutes.Bgp(table, bgp, "10.0.0.0/24", "172.16.0.4"));
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            await Wait.UntilAsync(() => fake.Find("10.0.0.0/24") is not null, Soon, "the initial feed");
            var flips = 0;
            var deadline = DateTime.UtcNow + Soon;
            while (fake.Find("10.0.0.0/24")!.Gateway == start && DateTime.UtcNow < deadline)
            {
                table.Update(TestRoutes.Bgp(table, bgp, "10.0.0.0/24", flips++ % 2 == 0 ? "172.16.0.2" : "172.16.0.3"));
                await Task.Delay(20);
            }
            return fake.Find("10.0.0.0/24")!.Gateway != start;
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Without_merge_paths_a_change_is_written_at_once_not_held() =>
        // Never still for the 2 s step, and the maximum beyond the test's reach: written in time only if not held.
        Assert.True(await FlippingPrefixIsWrittenAsync(mergePaths: false, TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(10)));

    [Fact]
    public async Task A_prefix_that_keeps_changing_is_written_within_the_settle_maximum() =>
        // Never still for the 200 ms step: the 1 s maximum lets it through.
        Assert.True(await FlippingPrefixIsWrittenAsync(mergePaths: true, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1)));

    [Fact]
    public async Task Export_statistics_count_each_route_written_and_withdrawn()
    {
        var fake = new FakeRouteNetlink();
        var table = new RoutingTable();
        var bgp = new TestProtocol(table);
        var kernel = new KernelProtocol(new KernelProtocolOptions { Name = "kernel1", ExportFilter = RouteFilter.AcceptAll, ScanTime = 60, Persist = true },
            table, TimeProvider.System, NullLoggerFactory.Instance, () => fake);
        for (var i = 0; i < 3; i++)
            table.Update(TestRoutes.Bgp(table, bgp, $"10.0.{i}.0/24", "172.16.0.2"));
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            await Wait.UntilAsync(() => kernel.Stats.Exported == 3, Soon, "three routes exported");
            Assert.Equal(3, kernel.Stats.ExportUpdatesSent);
            table.Update(TestRoutes.Bgp(table, bgp, "10.0.9.0/24", "172.16.0.2"));
            table.Withdraw(Prefix.Parse("10.0.0.0/24"), bgp);
            table.Withdraw(Prefix.Parse("10.0.1.0/24"), bgp);
            await Wait.UntilAsync(() => kernel.Stats.Exported == 2 && fake.Routes.Count == 2, Soon, "two routes withdrawn, one added");
            Assert.Equal(4, kernel.Stats.ExportUpdatesSent);
            Assert.Equal(2, kernel.Stats.ExportWithdrawsSent);
            Assert.Equal(2, kernel.Stats.ExportWithdrawsReceived);
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
    }
}
