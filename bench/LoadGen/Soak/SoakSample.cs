using System.Globalization;
using Calico.Bgp.Lab;

namespace Calico.Bgp.LoadGen.Soak;

/// <summary>One sample of the DUT, <see cref="Seconds"/> after the churn started.</summary>
public sealed record SoakSample(double Seconds, double RssMiB, double GcHeapMiB, double Threads, double Handles, double CpuSeconds);

/// <summary>
/// Reads the DUT from outside: VmRSS and Threads from /proc/PID/status, open handles as the
/// entries of /proc/PID/fd, CPU from /proc/PID/stat, and the GC heap from the daemon's own
/// metrics listener (<c>dotnet_total_memory_bytes</c>, prometheus-net's <c>GC.GetTotalMemory(false)</c>),
/// scraped with curl inside the DUT's namespace.
/// </summary>
public sealed class SoakSampler(LabHost dutHost, int pid, string metricsEndpoint)
{
    private const double ClockTicks = 100.0; // sysconf(_SC_CLK_TCK) on Linux
    public const string GcHeapMetric = "dotnet_total_memory_bytes";

    public async Task<SoakSample> SampleAsync(double seconds)
    {
        var status = File.ReadAllLines($"/proc/{pid}/status");
        var rss = StatusField(status, "VmRSS") / 1024.0;
        var threads = StatusField(status, "Threads");
        var handles = Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var cpu = (long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture)) / ClockTicks;
        var heap = await GcHeapBytesAsync().ConfigureAwait(false) / (1024.0 * 1024.0);
        return new SoakSample(seconds, rss, heap, threads, handles, cpu);
    }

    /// <summary>The GC heap as the daemon exports it; NaN when the scrape fails (the sample still counts for the rest).</summary>
    private async Task<double> GcHeapBytesAsync()
    {
        var r = await dutHost.RunAsync(TimeSpan.FromSeconds(15), "curl", "-s", "--max-time", "10", $"http://{metricsEndpoint}/metrics").ConfigureAwait(false);
        foreach (var line in r.StdOut.Split('\n'))
        {
            if (line.StartsWith(GcHeapMetric + " ", StringComparison.Ordinal)
                && double.TryParse(line[(GcHeapMetric.Length + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                return v;
        }
        return double.NaN;
    }

    private static double StatusField(string[] status, string field)
    {
        foreach (var line in status)
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return double.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        return double.NaN;
    }
}
