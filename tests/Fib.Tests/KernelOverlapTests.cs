using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Fib.Tests;

/// <summary>
/// A journal batch is written while the next one is read and planned; a prefix of the batch still in
/// the kernel waits for its result before it is planned again.
/// </summary>
public sealed class KernelOverlapTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(30);

    // The protocol's journal batch (KernelProtocol.JournalBatch): a full one is not waited for.
    private const int Batch = 4096;

    private static string P(int i) => $"10.{i >> 8}.{i & 255}.0/24";

    /// <summary>A started kernel protocol writing through <paramref name="fake"/>: export all, no scan in the test's time, no persist.</summary>
    private static async Task<KernelProtocol> StartKernelAsync(RoutingTable table, FakeRouteNetlink fake)
    {
        var kernel = new KernelProtocol(new KernelProtocolOptions
        {
            Name = "kernel1",
            ExportFilter = RouteFilter.AcceptAll,
            ScanTime = 60,
            Persist = false,
            JournalCapacity = 1 << 16,
        }, table, TimeProvider.System, NullLoggerFactory.Instance, () => fake);
        await kernel.StartAsync(CancellationToken.None);
        await InitialFeedReadAsync(table);
        return kernel;
    }

    /// <summary>
    /// Waits until the protocol's loop has taken its initial snapshot of the table, so every change the
    /// test makes after this comes through the journal in batches: a change made while the snapshot was
    /// being taken could land in it instead, and its write would not hold the loop as the tests need
    /// (the first test then saw no full batch at all, about one run in three).
    /// </summary>
    private static Task InitialFeedReadAsync(RoutingTable table) =>
        Wait.UntilAsync(() => table.JournalReaders is [var reader] && !reader.NeedsResync, Soon, "the initial feed read from the table");

    [Fact]
    public async Task The_next_batch_is_read_while_one_is_in_the_kernel_and_a_prefix_of_both_is_replaced_not_added_twice()
    {
        var fake = new FakeRouteNetlink();
        var table = new RoutingTable();
        var bgp = new TestProtocol(table);
        var kernel = await StartKernelAsync(table, fake);
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var full = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var fullHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            // The kernel holds the write of one route while the table moves on by a full batch and more.
            var firstHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            fake.BeforeWrite = changes =>
            {
                if (changes.Count != 1)
                    return Task.CompletedTask;
                firstHeld.TrySetResult();
                return first.Task;
            };
            table.Update(TestRoutes.Bgp(table, bgp, "192.168.0.0/24", "172.16.0.2"));
            await firstHeld.Task.WaitAsync(Soon);
            for (var i = 0; i < Batch; i++)
                table.Update(TestRoutes.Bgp(table, bgp, P(i), "172.16.0.2"));
            // The batch after: ten prefixes of the full batch change gateway, one is withdrawn, one is new.
            for (var i = 0; i < 10; i++)
                table.Update(TestRoutes.Bgp(table, bgp, P(i), "172.16.0.3"));
            table.Withdraw(Prefix.Parse(P(10)), bgp);
            table.Update(TestRoutes.Bgp(table, bgp, "192.168.1.0/24", "172.16.0.2"));
            fake.BeforeWrite = changes =>
            {
                if (changes.Count != Batch)
                    return Task.CompletedTask;
                fullHeld.TrySetResult();
                return full.Task;
            };
            first.SetResult();

            // The full batch is held in the kernel, and the loop has read the batch after it all the same.
            await fullHeld.Task.WaitAsync(Soon);
            await Wait.UntilAsync(() => table.JournalReaders.Single().Lag == 0, Soon, "the next batch read while the full one is in the kernel");
            // Only the first route's write is through; the full batch's are not applied yet.
            Assert.Single(fake.Writes);
            full.SetResult();

            // Counted in writes, not routes: the kernel holds Batch + 1 routes already once the full batch is in, before
            // the batch after it (ten replaces, a delete, an add) is written.
            const int writes = 1 + Batch + 12;
            await Wait.UntilAsync(() => fake.Writes.Count == writes && kernel.Counters.Writes == writes, Soon, "every write made and its result taken in");
            Assert.Equal(Batch + 1, fake.Routes.Count);
            Assert.Equal(0, kernel.Counters.WriteErrors);
            for (var i = 0; i < 10; i++)
            {
                Assert.Equal(IpAddr.Parse("172.16.0.3"), fake.Find(P(i))!.Gateway);
                var kinds = fake.Writes.Where(w => w.Route.Prefix == Prefix.Parse(P(i))).Select(w => w.Kind).ToArray();
                Assert.Equal([RouteChangeKind.Add, RouteChangeKind.Replace], kinds);
            }
            Assert.Null(fake.Find(P(10)));
            Assert.NotNull(fake.Find("192.168.1.0/24"));
            Assert.Equal(IpAddr.Parse("172.16.0.2"), fake.Find(P(11))!.Gateway);
        }
        finally
        {
            first.TrySetResult();
            full.TrySetResult();
            await kernel.StopAsync(CancellationToken.None);
        }
        // Stopping without persist removed every route, those of the overlapped writes too.
        Assert.Empty(fake.Routes);
    }

    [Fact]
    public async Task A_write_the_kernel_refuses_in_an_overlapped_batch_is_counted_and_retried_at_the_next_scan()
    {
        var fake = new FakeRouteNetlink();
        var table = new RoutingTable();
        var bgp = new TestProtocol(table);
        var kernel = new KernelProtocol(new KernelProtocolOptions
        {
            Name = "kernel1",
            ExportFilter = RouteFilter.AcceptAll,
            ScanTime = 60,
            Persist = false,
        }, table, TimeProvider.System, NullLoggerFactory.Instance, () => fake);
        await kernel.StartAsync(CancellationToken.None);
        await InitialFeedReadAsync(table);
        try
        {
            var refused = Prefix.Parse(P(7));
            fake.Refuse = c => c.Route.Prefix == refused ? Errno.Einval : 0;
            // Two full batches and a bit: the refused route sits in a batch written while the next is planned.
            for (var i = 0; i < 2 * Batch + 5; i++)
                table.Update(TestRoutes.Bgp(table, bgp, P(i), "172.16.0.2"));
            await Wait.UntilAsync(() => fake.Routes.Count == 2 * Batch + 4, Soon, "every route but the refused one");
            await Wait.UntilAsync(() => Task.FromResult(kernel.Counters.WriteErrors == 1), Soon, "the refusal counted",
                () => Task.FromResult($"write errors {kernel.Counters.WriteErrors}, writes {kernel.Counters.Writes}, refused route written {fake.Writes.Count(w => w.Route.Prefix == refused)} times"));
            Assert.Equal(1, kernel.Counters.WriteErrorsByErrno[Errno.Einval]);
            Assert.Null(fake.Find(P(7)));

            fake.Refuse = _ => 0;
            kernel.RequestScan();
            await Wait.UntilAsync(() => fake.Find(P(7)) is not null, Soon, "the refused route retried by the scan");
            Assert.Equal(1, kernel.Counters.WriteErrors);
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
        Assert.Empty(fake.Routes);
    }

    [Fact]
    public async Task A_write_lost_to_enobufs_while_the_next_batch_is_planned_leaves_no_change_of_that_batch_unwritten()
    {
        var fake = new FakeRouteNetlink();
        var table = new RoutingTable();
        var bgp = new TestProtocol(table);
        var kernel = await StartKernelAsync(table, fake);
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var fullHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var full = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            fake.BeforeWrite = changes =>
            {
                if (changes.Count != 1)
                    return Task.CompletedTask;
                firstHeld.TrySetResult();
                return first.Task;
            };
            table.Update(TestRoutes.Bgp(table, bgp, "192.168.0.0/24", "172.16.0.2"));
            await firstHeld.Task.WaitAsync(Soon);
            for (var i = 0; i < Batch; i++)
                table.Update(TestRoutes.Bgp(table, bgp, P(i), "172.16.0.2"));
            // The batch after: a new prefix first, then changes to prefixes of the full batch. Read
            // newest first, the changes meet the write still in flight before the new prefix is planned.
            table.Update(TestRoutes.Bgp(table, bgp, "192.168.1.0/24", "172.16.0.2"));
            for (var i = 0; i < 10; i++)
                table.Update(TestRoutes.Bgp(table, bgp, P(i), "172.16.0.3"));
            // The full batch's replies are lost (ENOBUFS): the kernel took none of it.
            fake.BeforeWrite = async changes =>
            {
                if (changes.Count != Batch)
                    return;
                fullHeld.TrySetResult();
                await full.Task;
                throw new NetlinkException(Errno.Enobufs, "netlink receive buffer overflowed");
            };
            first.SetResult();
            await fullHeld.Task.WaitAsync(Soon);
            await Wait.UntilAsync(() => table.JournalReaders.Single().Lag == 0, Soon, "the next batch read while the full one is in the kernel");
            fake.BeforeWrite = null;
            full.SetResult();

            // The lost write makes the protocol re-read the kernel and repair: every route of the
            // table ends in the kernel, the new prefix planned after the failure included.
            await Wait.UntilAsync(() => fake.Routes.Count == Batch + 2 && fake.Find("192.168.1.0/24") is not null, Soon, "the table's routes after the repair");
            Assert.True(kernel.Counters.Resyncs >= 1, $"resyncs {kernel.Counters.Resyncs}");
            for (var i = 0; i < 10; i++)
                Assert.Equal(IpAddr.Parse("172.16.0.3"), fake.Find(P(i))!.Gateway);
        }
        finally
        {
            first.TrySetResult();
            full.TrySetResult();
            await kernel.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_resync_stopped_part_way_by_a_lost_write_is_run_again_and_every_route_lands()
    {
        var fake = new FakeRouteNetlink();
        var table = new RoutingTable();
        var bgp = new TestProtocol(table);
        // Chunks of the resync (a first of 1,024, then 8,192 writes each) before the start: the initial feed is a resync.
        const int routes = 3 * 8192;
        for (var i = 0; i < routes; i++)
            table.Update(TestRoutes.Bgp(table, bgp, P(i), "172.16.0.2"));
        var lost = 0;
        fake.BeforeWrite = changes =>
        {
            // A full chunk's replies are lost once (ENOBUFS), found out while the next is planned.
            if (changes.Count == 8192 && Interlocked.Exchange(ref lost, 1) == 0)
                throw new NetlinkException(Errno.Enobufs, "netlink receive buffer overflowed");
            return Task.CompletedTask;
        };
        var kernel = new KernelProtocol(new KernelProtocolOptions
        {
            Name = "kernel1",
            ExportFilter = RouteFilter.AcceptAll,
            ScanTime = 60,
            Persist = false,
        }, table, TimeProvider.System, NullLoggerFactory.Instance, () => fake);
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            await Wait.UntilAsync(() => fake.Routes.Count == routes, Soon, "every route of the table in the kernel");
            Assert.Equal(1, lost);
            Assert.Equal(0, kernel.Counters.WriteErrors);
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
    }
}
