using Prometheus;

namespace Calico.Bgp.Daemon.Metrics;

/// <summary>
/// A gauge whose values are set at scrape time from the daemon's objects. Label sets not set in a
/// scrape are removed at its end, so a protocol removed by a reload disappears from the output
/// instead of reporting its last value for ever.
/// </summary>
internal sealed class ScrapedGauge : IScrapedMetric
{
    private readonly Gauge _gauge;
    private Dictionary<string, string[]> _previous = new(StringComparer.Ordinal);
    private Dictionary<string, string[]> _current = new(StringComparer.Ordinal);

    public ScrapedGauge(IMetricFactory factory, string name, string help, params string[] labelNames)
    {
        Name = name;
        _gauge = factory.CreateGauge(name, help, labelNames);
    }

    public string Name { get; }

    public void Set(double value, params string[] labels)
    {
        if (labels.Length == 0)
        {
            _gauge.Set(value);
            return;
        }
        _gauge.WithLabels(labels).Set(value);
        _current[LabelKey.Of(labels)] = labels;
    }

    /// <summary>Removes the label sets this scrape did not set.</summary>
    public void EndScrape()
    {
        foreach (var (key, labels) in _previous)
        {
            if (!_current.ContainsKey(key))
                _gauge.RemoveLabelled(labels);
        }
        (_previous, _current) = (_current, _previous);
        _current.Clear();
    }
}

/// <summary>A dictionary key for a label-value tuple (values never contain NUL).</summary>
internal static class LabelKey
{
    public static string Of(string[] labels) => string.Join('\0', labels);
}
