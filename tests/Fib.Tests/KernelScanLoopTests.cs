using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Fib.Tests;

/// <summary>The kernel protocol's loop between scans: it sleeps until the next scan, it does not spin.</summary>
public sealed class KernelScanLoopTests
{
    /// <summary>
    /// The system's clock and timers, but a long timer is set 0.7 ms short: the system's timers keep whole
    /// milliseconds, so it fires up to 1.7 ms before it is due, a fraction of a millisecond before the
    /// scan as the clock reads it, which is what the daemon's timers did now and then. Counts the
    /// protocol's reads of the clock.
    /// </summary>
    private sealed class EarlyTimers : TimeProvider
    {
        private long _reads;

        public long Reads => Interlocked.Read(ref _reads);

        public override DateTimeOffset GetUtcNow()
        {
            Interlocked.Increment(ref _reads);
            return System.GetUtcNow();
        }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            System.CreateTimer(callback, state, dueTime > TimeSpan.FromMilliseconds(50) ? dueTime - TimeSpan.FromMilliseconds(0.7) : dueTime, period);
    }

    [Fact]
    public async Task A_timer_that_fires_a_fraction_of_a_millisecond_early_does_not_set_the_loop_spinning()
    {
        var (lab, host) = await KernelNamespaceTests.NodeAsync("kernel-scan-loop", tunnel: false);
        await using var _ = lab;
        var table = new RoutingTable();
        var clock = new EarlyTimers();
        var options = new KernelProtocolOptions { Name = "kernel1", ExportFilter = RouteFilter.AcceptAll, ScanTime = 1, Persist = true };
        var kernel = new KernelProtocol(options, table, clock, NullLoggerFactory.Instance, host.Netns);
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            await Wait.UntilAsync(() => kernel.Counters.Scans >= 1, TimeSpan.FromSeconds(10), "the first scan");
            var (scans, reads) = (kernel.Counters.Scans, clock.Reads);
            await Wait.UntilAsync(() => kernel.Counters.Scans >= scans + 10, TimeSpan.FromSeconds(40), "ten more scans");
            var perScan = (clock.Reads - reads) / (double)(kernel.Counters.Scans - scans);
            // A few reads a scan (the loop's turn and the scan's own); a delay rounded down to nothing
            // turned the loop hundreds of times a scan until the clock caught up.
            Assert.True(perScan < 20, $"{perScan:F0} clock reads a scan");
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
    }

    [Theory]
    [InlineData(-1.0, 0.0)]
    [InlineData(0.0, 0.0)]
    [InlineData(0.001, 1.0)]
    [InlineData(0.5, 1.0)]
    [InlineData(1.0, 1.0)]
    [InlineData(1999.2, 2000.0)]
    public void A_wait_is_rounded_up_to_whole_milliseconds(double ms, double expected) =>
        Assert.Equal(TimeSpan.FromMilliseconds(expected), KernelProtocol.WholeMilliseconds(TimeSpan.FromMilliseconds(ms)));
}
