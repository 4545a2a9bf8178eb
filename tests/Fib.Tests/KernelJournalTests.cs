using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Fib.Tests;

/// <summary>The kernel protocol as a reader of the table's change journal: coalescing per prefix, and resync after a fall behind.</summary>
public sealed class KernelJournalTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Four_paths_announced_in_quick_succession_are_written_once_with_all_four_next_hops()
    {
        var lab = await TestLab.CreateAsync("kernel-ecmp-burst");
        await using var _ = lab;
        var host = await lab.AddHostAsync("node");
        var peer = await lab.AddHostAsync("peer");
        await lab.ConnectAsync(host, "172.16.0.1/24", peer, "172.16.0.2/24", "eth0", "eth0");
        var table = new RoutingTable();
        var owners = Enumerable.Range(0, 4).Select(i => new TestProtocol(table, $"Mesh_172_16_0_{i + 2}")).ToArray();
        // A generous settle step: the test thread may be descheduled between two updates on a busy machine.
        var kernel = new KernelProtocol(new KernelProtocolOptions
        {
            Name = "kernel1",
            ExportFilter = RouteFilter.AcceptAll,
            MergePaths = true,
            ScanTime = 60,
            Persist = false,
            ExportSettleMin = TimeSpan.FromMilliseconds(200),
            ExportSettleMax = TimeSpan.FromSeconds(10),
        }, table, TimeProvider.System, NullLoggerFactory.Instance, host.Netns);
        await using var monitor = new RouteMonitor(host.Netns);
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            var prefixes = Enumerable.Range(0, 8).Select(i => $"10.233.{i}.0/24").ToArray();
            // Each prefix from four owners a few milliseconds apart, as four BGP sessions would announce
            // it; the protocol goes idle between prefixes, so every prefix is a burst of its own.
            foreach (var p in prefixes)
            {
                for (var o = 0; o < owners.Length; o++)
                {
                    table.Update(TestRoutes.Bgp(table, owners[o], p, $"172.16.0.{o + 2}"));
                    await Task.Delay(5);
                }
                await Task.Delay(400);
            }
            await Wait.UntilAsync(
                async () => (await host.RoutesAsync()).Count(r => r.Protocol == "bird" && r.MultipathGateways.Count == 4) == prefixes.Length,
                Soon, "every prefix with four next hops", () => host.RoutesTextAsync());

            var adds = monitor.Events.Where(e => e.Type == Rtnl.NewRoute).ToList();
            foreach (var p in prefixes)
            {
                var writes = adds.Where(e => e.Route.Prefix == Prefix.Parse(p)).ToList();
                Assert.True(writes.Count == 1, $"{p}: {writes.Count} RTM_NEWROUTE\n{string.Join("\n", monitor.Describe())}");
                Assert.Equal(4, writes[0].Route.NextHops.Length);
            }
            Assert.Equal(prefixes.Length, kernel.Counters.Writes);
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
