using Prometheus;

namespace Calico.Bgp.Daemon.Metrics;

/// <summary>
/// A counter mirrored at scrape time from a total the daemon keeps (<see cref="Rib.ProtocolStats"/>,
/// <see cref="Fib.Kernel.KernelCounters"/>…). The total belongs to an owner object: when a reload
/// replaces the owner (a restarted protocol starts counting from zero) the series is recreated, so
/// Prometheus sees an ordinary counter reset rather than a counter stuck at the old maximum.
/// </summary>
internal sealed class ScrapedCounter : IScrapedMetric
{
    private readonly Counter _counter;
    private Dictionary<string, Series> _previous = new(StringComparer.Ordinal);
    private Dictionary<string, Series> _current = new(StringComparer.Ordinal);

    public ScrapedCounter(IMetricFactory factory, string name, string help, params string[] labelNames)
    {
        Name = name;
        _counter = factory.CreateCounter(name, help, labelNames);
    }

    public string Name { get; }

    public void Set(object owner, double total, params string[] labels)
    {
        var key = LabelKey.Of(labels);
        var child = _counter.WithLabels(labels);
        if (_previous.TryGetValue(key, out var seen) && (!ReferenceEquals(seen.Owner, owner) || total < child.Value))
        {
            _counter.RemoveLabelled(labels);
            child = _counter.WithLabels(labels);
        }
        child.IncTo(total);
        _current[key] = new Series(owner, labels);
    }

    /// <summary>Removes the series this scrape did not set.</summary>
    public void EndScrape()
    {
        foreach (var (key, series) in _previous)
        {
            if (!_current.ContainsKey(key))
                _counter.RemoveLabelled(series.Labels);
        }
        (_previous, _current) = (_current, _previous);
        _current.Clear();
    }

    private sealed record Series(object Owner, string[] Labels);
}
