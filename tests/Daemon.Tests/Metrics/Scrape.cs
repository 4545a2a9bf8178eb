using System.Globalization;
using System.Text;
using Calico.Bgp.Daemon.Metrics;

namespace Calico.Bgp.Daemon.Tests.Metrics;

/// <summary>A scrape in Prometheus' text format, parsed into series (<c>name{a="x",b="y"}</c> → value).</summary>
internal sealed class Scrape
{
    private Scrape(string text, Dictionary<string, double> series)
    {
        Text = text;
        Series = series;
    }

    public string Text { get; }
    public Dictionary<string, double> Series { get; }

    public static async Task<Scrape> TakeAsync(DaemonMetrics metrics)
    {
        using var stream = new MemoryStream();
        await metrics.WriteAsync(stream, CancellationToken.None);
        return Parse(Encoding.UTF8.GetString(stream.ToArray()));
    }

    public static Scrape Parse(string text)
    {
        var series = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            var space = line.LastIndexOf(' ');
            series[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }
        return new Scrape(text, series);
    }

    /// <summary>The value of one series; the labels in the order the metric declares them.</summary>
    public double Value(string name, params (string Label, string Value)[] labels)
    {
        var key = labels.Length == 0 ? name : $"{name}{{{string.Join(',', labels.Select(l => $"{l.Label}=\"{l.Value}\""))}}}";
        return Series.TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"{key} not in the scrape:\n{Text}");
    }

    public bool Has(string name, string labelFragment) =>
        Series.Keys.Any(k => k.StartsWith(name + "{", StringComparison.Ordinal) && k.Contains(labelFragment, StringComparison.Ordinal));

    /// <summary>Metric family names (from the TYPE lines).</summary>
    public IEnumerable<string> Families =>
        Text.Split('\n').Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)).Select(l => l.Split(' ')[2]);
}
