using Calico.Bgp.Daemon.Metrics;
using Calico.Bgp.Daemon.Tests.Control;
using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Daemon.Tests.Metrics;

/// <summary>Prometheus' own linter on a scrape with every kind of series, process metrics included.</summary>
public class PromtoolTests
{
    private const string Promtool = "/usr/bin/promtool";

    [Fact]
    public async Task A_full_scrape_passes_promtool_check_metrics()
    {
        Assert.True(File.Exists(Promtool), $"{Promtool} is missing; Debian's prometheus package provides it (tools/setup.sh)");
        var time = new ManualTime(ManualTime.At("10:00:00"));
        var source = new FakeMetricsSource { StartedAt = time.Now, LastReload = new ReloadOutcome(true, time.Now) };
        var bgp = new BgpProtocol(new BgpProtocolOptions { Name = "Node_10_0_0_2", RouterId = 1, LocalAs = 64512, PeerAs = 64512, NeighborAddress = IpAddr.Parse("10.0.0.2") },
            source.Table, time, NullLoggerFactory.Instance, null);
        var kernel = new KernelProtocol(new KernelProtocolOptions { Name = "kernel1" }, source.Table, time, NullLoggerFactory.Instance,
            () => throw new InvalidOperationException("not started in this test"));
        var static1 = new FakeProtocol("static1", "Static", source.Table, time, 200);
        static1.Set(ProtocolState.Up);
        source.ProtocolList.AddRange([kernel, static1, bgp]);
        source.Table.Update(Route.Create(Prefix.Parse("10.60.1.0/24"), source.Table.Attributes.Intern(new PathAttributes { Source = RouteSource.Static, Dest = RouteDest.Blackhole }), static1));
        using var journal = source.Table.SubscribeJournal("kernel1");
        var metrics = new DaemonMetrics(source, time);

        var scrape = await Scrape.TakeAsync(metrics);
        var r = await Shell.RunAsync(Promtool, ["check", "metrics"], stdin: scrape.Text);
        Assert.True(r.Ok, $"promtool check metrics failed:\n{r.StdOut}{r.StdErr}\n{scrape.Text}");
    }
}
