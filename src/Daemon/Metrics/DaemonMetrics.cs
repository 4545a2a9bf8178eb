using Prometheus;

namespace Calico.Bgp.Daemon.Metrics;

/// <summary>
/// The daemon's Prometheus registry. Nothing is counted on the hot paths: before each scrape a
/// callback reads the daemon's own counters and snapshots through <see cref="IMetricsSource"/> and
/// sets the series. The .NET process metrics (<c>process_*</c>, <c>dotnet_*</c>) come along.
/// </summary>
public sealed class DaemonMetrics
{
    private readonly IMetricsSource _source;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly MetricGroup _group;
    private readonly ProcessMetrics _process;
    private readonly ProtocolMetrics _protocols;
    private readonly BgpSessionMetrics _bgp;
    private readonly KernelMetrics _kernel;
    private readonly RibMetrics _rib;

    public DaemonMetrics(IMetricsSource source, TimeProvider time, bool processMetrics = true)
    {
        _source = source;
        _time = time;
        Registry = Prometheus.Metrics.NewCustomRegistry();
        if (processMetrics)
            DotNetStats.Register(Registry);
        _group = new MetricGroup(Prometheus.Metrics.WithCustomRegistry(Registry));
        _process = new ProcessMetrics(_group);
        _protocols = new ProtocolMetrics(_group);
        _bgp = new BgpSessionMetrics(_group);
        _kernel = new KernelMetrics(_group);
        _rib = new RibMetrics(_group);
        Registry.AddBeforeCollectCallback(Collect);
    }

    public CollectorRegistry Registry { get; }

    /// <summary>Every <c>calico_bgp_*</c> metric name this registry can export.</summary>
    public IReadOnlyCollection<string> Names => [.. _group.Names];

    /// <summary>Writes a scrape in Prometheus' text format (0.0.4).</summary>
    public Task WriteAsync(Stream output, CancellationToken cancellationToken) =>
        Registry.CollectAndExportAsTextAsync(output, cancellationToken);

    /// <summary>Sets every series from the daemon's state as it is now.</summary>
    private void Collect()
    {
        // Scrapes may overlap; one at a time keeps the "seen this scrape" bookkeeping straight.
        lock (_lock)
        {
            var protocols = _source.Protocols;
            var now = _time.GetUtcNow();
            _process.Collect(_source);
            _protocols.Collect(_source, protocols);
            _bgp.Collect(_source, protocols, now);
            _kernel.Collect(protocols);
            _rib.Collect(_source);
            _group.EndScrape();
        }
    }
}
