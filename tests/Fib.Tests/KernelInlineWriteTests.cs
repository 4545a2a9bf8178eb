using System.Diagnostics;
using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Fib.Tests;

/// <summary>
/// Where a journal batch's write runs: a batch that is not full is written on the loop itself, from
/// the step that planned it (no hand-off to the thread pool, whose queue a burst of sessions fills);
/// a full batch is still written on the thread pool while the next one is planned.
/// </summary>
public sealed class KernelInlineWriteTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);
    private const int Batch = HeldInitialFeed.Batch;

    [Fact]
    public async Task A_small_batch_is_written_from_the_step_that_planned_it_and_a_full_one_on_the_thread_pool()
    {
        var fake = new FakeRouteNetlink();
        var table = new RoutingTable();
        var bgp = new TestProtocol(table);
        table.Update(TestRoutes.Bgp(table, bgp, "10.255.0.0/24", "172.16.0.2"));
        var options = new KernelProtocolOptions { Name = "kernel1", ExportFilter = RouteFilter.AcceptAll, ScanTime = 60, Persist = true };
        var kernel = new KernelProtocol(options, table, TimeProvider.System, NullLoggerFactory.Instance, () => fake);
        var feed = new HeldInitialFeed();
        var fromBatchStep = new List<(int Count, bool Inline)>();
        fake.BeforeWrite = async changes =>
        {
            lock (fromBatchStep)
                fromBatchStep.Add((changes.Count, CalledFromBatchStep()));
            await feed.BeforeWriteAsync();
        };
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            await feed.BurstAsync(table, bgp, Soon);
            await Wait.UntilAsync(() => kernel.Counters.RoutesInstalled == Batch + 1, Soon, "the burst installed");

            // Then one route on its own: a batch of one change.
            table.Update(TestRoutes.Bgp(table, bgp, "10.254.0.0/24", "172.16.0.2"));
            await Wait.UntilAsync(() => kernel.Counters.RoutesInstalled == Batch + 2, Soon, "the lone route installed");

            lock (fromBatchStep)
            {
                // The initial feed (a resync, written in chunks on the pool), the full batch (on the pool), the lone change (on the loop).
                Assert.Equal([(1, false), (Batch, false), (1, true)], fromBatchStep);
            }
            Assert.NotNull(fake.Find("10.254.0.0/24"));
            Assert.Empty(kernel.Counters.WriteErrorsByErrno);
        }
        finally
        {
            feed.Release();
            await kernel.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>True when the write was called synchronously from the loop's batch step (its async state machine is on the stack).</summary>
    private static bool CalledFromBatchStep() =>
        new StackTrace(false).GetFrames().Any(f => f.GetMethod()?.DeclaringType?.Name.Contains("ReadBatchAsync", StringComparison.Ordinal) == true);
}
