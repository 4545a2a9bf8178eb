using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Calico.Bgp.Fib.Tests;

/// <summary>The kernel protocol as a reader of the table's change journal: coalescing per prefix, and resync after a fall behind.</summary>
public sealed class KernelJournalTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_new_prefix_is_written_at_once_and_the_paths_that_follow_it_together_once_settled()
    {
        var lab = await TestLab.CreateAsync("kernel-ecmp-burst");
        await using var _ = lab;
        var host = await lab.AddHostAsync("node");
        var peer = await lab.AddHostAsync("peer");
        await lab.ConnectAsync(host, "172.16.0.1/24", peer, "172.16.0.2/24", "eth0", "eth0");
        var table = new RoutingTable();
        var owners = Enumerable.Range(0, 4).Select(i => new TestProtocol(table, $"Mesh_172_16_0_{i + 2}")).ToArray();
        // The settle runs on this clock, which moves only when the test moves it: a held prefix stays
        // held until then, so what reaches the kernel before that was not held.
        var clock = new FakeTimeProvider();
        var step = TimeSpan.FromMilliseconds(50);
        var kernel = new KernelProtocol(new KernelProtocolOptions
        {
            Name = "kernel1",
            ExportFilter = RouteFilter.AcceptAll,
            MergePaths = true,
            ScanTime = 60,
            Persist = false,
            ExportSettleMin = step,
            ExportSettleMax = TimeSpan.FromSeconds(10),
        }, table, clock, NullLoggerFactory.Instance, host.Netns);
        await using var monitor = new RouteMonitor(host.Netns);
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            // The initial feed settles first (on the fake clock): move it until a first route is through.
            table.Update(TestRoutes.Bgp(table, owners[0], "10.99.0.0/24", "172.16.0.2"));
            await Wait.UntilAsync(() =>
            {
                clock.Advance(step);
                return Task.FromResult(monitor.Events.Any(e => e.Route.Prefix == Prefix.Parse("10.99.0.0/24")));
            }, Soon, "the initial feed");

            foreach (var p in new[] { "10.233.0.0/24", "10.233.1.0/24" })
            {
                var prefix = Prefix.Parse(p);
                List<KernelRouteSpec> Writes() => [.. monitor.Events.Where(e => e.Type == Rtnl.NewRoute && e.Route.Prefix == prefix).Select(e => e.Route)];

                // One path of a prefix the kernel does not have: written without the clock moving.
                table.Update(TestRoutes.Bgp(table, owners[0], p, "172.16.0.2"));
                await Wait.UntilAsync(() => Task.FromResult(Writes().Count == 1), Soon, $"{p} written at once", () => host.RoutesTextAsync());
                Assert.False(Writes()[0].IsMultipath);

                // Three more paths as three more sessions announce it: a change of a route that is
                // there, held until the prefix has been still for a settle step, then one write.
                for (var o = 1; o < owners.Length; o++)
                    table.Update(TestRoutes.Bgp(table, owners[o], p, $"172.16.0.{o + 2}"));
                await Task.Delay(300);
                Assert.True(Writes().Count == 1, $"{p} rewritten while held:\n{string.Join("\n", monitor.Describe())}");
                await Wait.UntilAsync(() =>
                {
                    clock.Advance(step);
                    return Task.FromResult(Writes().Count > 1);
                }, Soon, $"{p} with four next hops");
                await Wait.UntilAsync(
                    async () => (await host.RoutesAsync()).Any(r => r.Dst == p && r.MultipathGateways.Count == 4),
                    Soon, $"{p} with four next hops in the table", () => host.RoutesTextAsync());
                var writes = Writes();
                Assert.True(writes.Count == 2, $"{p}: {writes.Count} RTM_NEWROUTE\n{string.Join("\n", monitor.Describe())}");
                Assert.Equal(4, writes[1].NextHops.Length);
            }
            Assert.Equal(5, kernel.Counters.Writes);
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_reader_that_falls_behind_the_journal_resyncs_from_the_table()
    {
        var fake = new FakeRouteNetlink();
        var table = new RoutingTable();
        var bgp = new TestProtocol(table);
        var kernel = new KernelProtocol(new KernelProtocolOptions
        {
            Name = "kernel1",
            ExportFilter = RouteFilter.AcceptAll,
            ScanTime = 60,
            Persist = true,
            JournalCapacity = 16,
        }, table, TimeProvider.System, NullLoggerFactory.Instance, () => fake);
        table.Update(TestRoutes.Bgp(table, bgp, "10.0.0.0/24", "172.16.0.2"));
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            await Wait.UntilAsync(() => fake.Find("10.0.0.0/24") is not null, Soon, "initial feed");
            // The kernel stalls on the next write while the table moves on by far more than 16 changes.
            fake.Paused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            table.Update(TestRoutes.Bgp(table, bgp, "10.1.0.0/24", "172.16.0.2"));
            await Wait.UntilAsync(() => table.JournalReaders.Single().Lag == 0, Soon, "the first change taken");
            for (var i = 2; i < 100; i++)
                table.Update(TestRoutes.Bgp(table, bgp, $"10.{i}.0.0/24", "172.16.0.2"));
            table.Withdraw(Prefix.Parse("10.0.0.0/24"), bgp);
            Assert.Equal(0, kernel.Counters.Resyncs);
            fake.Paused.SetResult();

            await Wait.UntilAsync(() => fake.Routes.Count == 99 && fake.Find("10.0.0.0/24") is null, Soon, "the table's state after the resync");
            Assert.Equal(1, kernel.Counters.Resyncs);
            Assert.Equal(1, table.JournalReaders.Single().OverflowCount);
            // Nothing written twice: the resync compares with what is installed.
            Assert.Equal(fake.Writes.Count, fake.Writes.Select(w => (w.Kind, w.Route.Prefix)).Distinct().Count());
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
    }
}
