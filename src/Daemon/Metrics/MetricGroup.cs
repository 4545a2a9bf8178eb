using Prometheus;

namespace Calico.Bgp.Daemon.Metrics;

/// <summary>A metric whose series are set during a scrape and pruned at its end.</summary>
internal interface IScrapedMetric
{
    string Name { get; }

    void EndScrape();
}

/// <summary>
/// Creates the scraped metrics of one registry and ends a scrape for all of them at once; it also
/// knows every name it created, which the dashboard test checks queries against.
/// </summary>
internal sealed class MetricGroup(IMetricFactory factory)
{
    private readonly List<IScrapedMetric> _metrics = [];

    public IEnumerable<string> Names => _metrics.Select(m => m.Name);

    public ScrapedGauge Gauge(string name, string help, params string[] labelNames) =>
        Add(new ScrapedGauge(factory, name, help, labelNames));

    public ScrapedCounter Counter(string name, string help, params string[] labelNames) =>
        Add(new ScrapedCounter(factory, name, help, labelNames));

    public void EndScrape()
    {
        foreach (var m in _metrics)
            m.EndScrape();
    }

    private T Add<T>(T metric) where T : IScrapedMetric
    {
        _metrics.Add(metric);
        return metric;
    }
}
