using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Fib.Tests;

/// <summary>
/// The writes of a resync (and of full journal batches) are a pipeline: once a chunk's write is done,
/// the next chunk is handed to the kernel before the done chunk's results are taken into the view,
/// so the kernel does not wait while the view takes in thousands of results.
/// </summary>
public sealed class KernelWritePipelineTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);

    // More than the resync's first chunk (1,024), so the initial feed is written in two chunks.
    private const int Routes = 1024 + 100;

    /// <summary>
    /// Holds the first "&lt;" route line (written while a chunk's results are taken in) until the
    /// second write has reached the netlink, or gives up after a while; records which of the two it was.
    /// </summary>
    private sealed class FirstResultProbe(Task secondWrite) : ILoggerFactory, ILogger
    {
        private int _lines;

        /// <summary>Whether the second chunk was with the kernel when the first chunk's results were taken in (null: not seen yet).</summary>
        public bool? SecondWriteStartedFirst { get; private set; }

        public ILogger CreateLogger(string categoryName) => this;
        public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id != ProtocolEvents.RouteExported.Id || Interlocked.Increment(ref _lines) != 1)
                return;
            // Taken in before the next chunk was started, the loop would start it only after this returns: wait a bounded time.
            SecondWriteStartedFirst = secondWrite.Wait(TimeSpan.FromSeconds(3));
        }

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task The_next_chunk_is_with_the_kernel_before_the_results_of_the_one_before_are_taken_in()
    {
        var fake = new FakeRouteNetlink();
        var table = new RoutingTable();
        var bgp = new TestProtocol(table);
        for (var i = 0; i < Routes; i++)
            table.Update(TestRoutes.Bgp(table, bgp, $"10.{i / 256}.{i % 256}.0/24", "172.16.0.2"));
        var secondWrite = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sizes = new List<int>();
        fake.BeforeWrite = changes =>
        {
            lock (sizes)
            {
                sizes.Add(changes.Count);
                if (sizes.Count == 2)
                    secondWrite.TrySetResult();
            }
            return Task.CompletedTask;
        };
        var probe = new FirstResultProbe(secondWrite.Task);
        var options = new KernelProtocolOptions { Name = "kernel1", ExportFilter = RouteFilter.AcceptAll, ScanTime = 60, Persist = true, Notifications = false };
        var kernel = new KernelProtocol(options, table, TimeProvider.System, probe, () => fake);
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            await Wait.UntilAsync(() => kernel.Counters.RoutesInstalled == Routes, Soon, "the initial feed installed");
            Assert.True(probe.SecondWriteStartedFirst, "the first chunk's results were taken in before the second chunk was written");
            lock (sizes)
                Assert.Equal([1024, Routes - 1024], sizes);
            // Every result taken in once, whatever the order: each route written once and counted installed.
            Assert.Equal(Routes, kernel.Counters.Writes);
            Assert.Equal(Routes, fake.Routes.Count);
            Assert.All(fake.Writes, w => Assert.Equal(RouteChangeKind.Add, w.Kind));
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
    }
}
