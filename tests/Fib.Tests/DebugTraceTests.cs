using Calico.Bgp.Fib.Interfaces;
using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Fib.Static;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Fib.Tests;

/// <summary>
/// The Fib protocols' debug lines (BIRD's <c>debug { routes, filters, interfaces }</c>), in a lab
/// namespace: device interface and address changes, static routes announced and filtered, kernel
/// routes written and learned. Every class is on here (a plain capture); the daemon's switch decides
/// which pass.
/// </summary>
public sealed class DebugTraceTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);

    /// <summary>Keeps each Debug message by its category's class, whatever category was asked for.</summary>
    private sealed class Capture : ILoggerFactory, ILogger
    {
        private readonly List<(int EventId, string Message)> _lines = [];

        public List<string> Messages
        {
            get
            {
                lock (_lines)
                    return [.. _lines.Select(l => l.Message)];
            }
        }

        public List<int> EventIds(string message)
        {
            lock (_lines)
                return [.. _lines.Where(l => l.Message == message).Select(l => l.EventId)];
        }

        public ILogger CreateLogger(string categoryName) => this;
        public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel != LogLevel.Debug)
                return;
            lock (_lines)
                _lines.Add((eventId.Id, formatter(state, exception)));
        }

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task Device_static_and_kernel_write_their_interface_route_and_filter_lines()
    {
        await using var lab = await TestLab.CreateAsync("dbgfib");
        var host = await lab.AddHostAsync("node");
        var peer = await lab.AddHostAsync("peer");
        await lab.ConnectAsync(host, "172.16.0.1/24", peer, "172.16.0.2/24", "eth0", "eth0");
        var log = new Capture();
        var table = new RoutingTable();
        var device = new DeviceProtocol(new DeviceProtocolOptions { Name = "device1", ScanTime = 1 }, table, TimeProvider.System, log, host.Netns);
        var static1 = new StaticProtocol(new StaticProtocolOptions { Name = "static1", Routes = [new(Prefix.Parse("10.60.1.0/24"), RouteDest.Blackhole)] }, table, TimeProvider.System, log, host.Netns);
        var static2 = new StaticProtocol(new StaticProtocolOptions
        {
            Name = "static2",
            Routes = [new(Prefix.Parse("10.60.2.0/24"), RouteDest.Blackhole)],
            ImportFilter = RouteFilter.RejectAll,
        }, table, TimeProvider.System, log, host.Netns);
        var kernel = new KernelProtocol(new KernelProtocolOptions { Name = "kernel1", ExportFilter = RouteFilter.AcceptAll, ScanTime = 1, Learn = true }, table, TimeProvider.System, log, host.Netns);
        Protocol[] all = [device, static1, static2, kernel];
        foreach (var p in all)
            await p.StartAsync(CancellationToken.None);
        string Describe() => string.Join('\n', log.Messages);
        try
        {
            await Wait.UntilAsync(() => Task.FromResult(log.Messages.Any(m => m.StartsWith("kernel1 < add blackhole 10.60.1.0/24", StringComparison.Ordinal))), Soon, "the kernel write's line", () => Task.FromResult(Describe()));
            Assert.Contains("device1 < interface eth0 created (up)", log.Messages);
            Assert.Contains("device1 < address 172.16.0.1/24 on interface eth0 added", log.Messages);
            Assert.Contains("static1 > added 10.60.1.0/24", log.Messages);
            Assert.Contains("static2 > filtered out 10.60.2.0/24", log.Messages);
            Assert.DoesNotContain(log.Messages, m => m.StartsWith("kernel1 < add blackhole 10.60.2.0/24", StringComparison.Ordinal));
            Assert.Equal([ProtocolEvents.RouteImported.Id], log.EventIds("static1 > added 10.60.1.0/24"));
            Assert.Equal([ProtocolEvents.ImportFiltered.Id], log.EventIds("static2 > filtered out 10.60.2.0/24"));

            // A route another daemon put in the kernel is learned; then taken away.
            (await host.IpAsync("route", "add", "10.70.0.0/24", "via", "172.16.0.2", "proto", "static")).ThrowIfFailed("alien");
            await Wait.UntilAsync(() => Task.FromResult(log.Messages.Contains("kernel1 > learned 10.70.0.0/24 via 172.16.0.2")), Soon, "the learned route's line", () => Task.FromResult(Describe()));
            (await host.IpAsync("route", "del", "10.70.0.0/24")).ThrowIfFailed("alien gone");
            await Wait.UntilAsync(() => Task.FromResult(log.Messages.Contains("kernel1 > removed 10.70.0.0/24")), Soon, "the learned route's removal line", () => Task.FromResult(Describe()));

            // The link goes down: the device protocol tells it, and its address goes with it.
            (await host.IpAsync("link", "set", "eth0", "down")).ThrowIfFailed("eth0 down");
            await Wait.UntilAsync(() => Task.FromResult(log.Messages.Contains("device1 < interface eth0 goes down")), Soon, "the link's line", () => Task.FromResult(Describe()));
            Assert.Contains("device1 < address 172.16.0.1/24 on interface eth0 removed", log.Messages);
            // Events: each periodic scan.
            Assert.Contains("device1: Scanning interfaces", log.Messages);
            Assert.Contains("kernel1: Scanning routing table", log.Messages);
            Assert.Equal([ProtocolEvents.InterfaceChanged.Id], log.EventIds("device1 < interface eth0 goes down"));
        }
        finally
        {
            foreach (var p in all.Reverse())
                await p.StopAsync(CancellationToken.None);
        }
    }
}
