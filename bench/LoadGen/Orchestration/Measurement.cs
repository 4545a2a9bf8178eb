using System.Text.Json;

namespace Calico.Bgp.LoadGen.Orchestration;

/// <summary>One run of one daemon in one case: DUT time, memory and CPU beside the generator's CPU.</summary>
/// <param name="GaveUp">The run failed or did not finish: the daemon's later runs of the case are skipped.</param>
public sealed record RunResult(double? Seconds, double PeakRssMiB, double DutCpuSeconds, double GeneratorCpuSeconds, JsonElement Agent, string? Note = null, bool GaveUp = false)
{
    public double? Extra(string name) =>
        Agent.ValueKind == JsonValueKind.Object && Agent.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
}

/// <summary>The medians of a daemon's runs of one case, and the runs themselves (for plots).</summary>
public sealed record Measurement(string Scenario, string Case, DutKind Daemon, IReadOnlyList<RunResult> Runs)
{
    public string? Note => Runs.Select(r => r.Note).FirstOrDefault(n => n is not null);

    public double? Seconds => Median(Runs.Select(r => r.Seconds));
    public double? PeakRssMiB => Median(Runs.Select(r => (double?)r.PeakRssMiB));
    public double? DutCpuSeconds => Median(Runs.Select(r => (double?)r.DutCpuSeconds));
    public double? GeneratorCpuSeconds => Median(Runs.Select(r => (double?)r.GeneratorCpuSeconds));

    public double? Extra(string name) => Median(Runs.Select(r => r.Extra(name)));

    /// <summary>Median of the finished runs; null when none finished.</summary>
    public static double? Median(IEnumerable<double?> values)
    {
        var v = values.Where(x => x is not null && !double.IsNaN(x.Value)).Select(x => x!.Value).Order().ToList();
        if (v.Count == 0)
            return null;
        return v.Count % 2 == 1 ? v[v.Count / 2] : (v[(v.Count / 2) - 1] + v[v.Count / 2]) / 2;
    }
}
