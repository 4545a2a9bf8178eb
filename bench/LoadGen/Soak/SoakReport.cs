using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Calico.Bgp.LoadGen.Soak;

/// <summary>
/// bench/RESULTS-soak.md: machine, date, command and load, what the generator saw, the table of
/// start/end/slope per series, the plot, and the samples as CSV beside it (plots/soak-samples.csv).
/// </summary>
public sealed class SoakReport(SoakOptions options, string[] args)
{
    private readonly List<SoakSample> _samples = [];
    private readonly List<double> _loads = [];
    private readonly string _loadBefore = LoadAverage();
    private readonly DateTime _started = DateTime.UtcNow;
    private JsonElement _agent;
    private string? _failure;

    public bool Failed => _failure is not null;

    public string LastLoad { get; private set; } = "?";

    public void Add(SoakSample s)
    {
        _samples.Add(s);
        LastLoad = LoadAverage();
        if (double.TryParse(LastLoad.Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var one))
            _loads.Add(one);
    }

    public void Finish(JsonElement agent) => _agent = agent;

    public void Fail(string message) => _failure = message.Split('\n')[0];

    private static readonly (string Name, string Unit, string Format, Func<SoakSample, double> Value)[] Quantities =
    [
        ("RSS (VmRSS)", "MiB", "F1", s => s.RssMiB),
        ("GC heap (dotnet_total_memory_bytes)", "MiB", "F1", s => s.GcHeapMiB),
        ("threads (Threads)", "", "F0", s => s.Threads),
        ("open handles (/proc/PID/fd)", "", "F0", s => s.Handles),
    ];

    public IReadOnlyList<SoakSeries> Series() =>
        [.. Quantities.Select(q => SoakSeries.Fit(q.Name, q.Unit, _samples, q.Value, options.WarmupMinutes * 60))];

    public async Task WriteAsync()
    {
        var dir = Path.GetDirectoryName(options.Output)!;
        var plotFile = Path.Combine(dir, "plots", "soak.png");
        var series = Series();
        var sb = new StringBuilder();
        sb.AppendLine("# Soak: calico-bgpd as route reflector under churn\n");
        sb.AppendLine(I($"- Date: {_started:yyyy-MM-dd HH:mm} UTC"));
        var nice = Nice();
        var command = nice == 10 ? "bench/run.sh soak" : "bench/LoadGen/bin/Release/net10.0/calico-loadgen soak";
        sb.AppendLine(I($"- Command: `{command}{(args.Length > 0 ? " " + string.Join(' ', args) : "")}` as root, at nice {nice} (the DUT and the generator inherit it; `bench/run.sh soak` builds the daemon and LoadGen in Release and runs at nice 10)"));
        sb.AppendLine(I($"- Machine: {Machine()}"));
        sb.AppendLine(I($"- Load average (1/5/15 min) before: {_loadBefore}; after: {LoadAverage()}; 1-min load while sampling: mean {(_loads.Count > 0 ? _loads.Average() : double.NaN):F2}, max {(_loads.Count > 0 ? _loads.Max() : double.NaN):F2} — the machine is shared, other jobs ran beside this."));
        sb.AppendLine(I($"- Load: {options.Clients} route-reflector clients (iBGP, ADD-PATH), each announcing 2 /26 + 5 /32; then for {options.ChurnSeconds / 60.0:F1} min workload /32s announced at {options.Rate}/s (one UPDATE each, five in a row from the same client, clients in turn), each withdrawn 1 s later, never reused."));
        sb.AppendLine(I($"- Sampled every {options.IntervalSeconds} s from the churn's start: VmRSS and Threads from /proc/PID/status, entries of /proc/PID/fd, and the GC heap from the daemon's `--metrics` listener (`{SoakSampler.GcHeapMetric}`, i.e. `GC.GetTotalMemory(false)`). Slopes: least squares over the samples after {options.WarmupMinutes:G} min of warm-up, per hour. \"Flat\": the fitted growth per hour is under {SoakSeries.FlatPercentPerHour:G}% of the series' mean, or within two standard errors of zero."));
        sb.AppendLine("- DUT pinned to core 1 (`taskset -c 1`), generator on core 0, as in RESULTS.md.\n");
        if (_failure is not null)
            sb.AppendLine(I($"**The soak failed:** {_failure}\n"));
        if (_agent.ValueKind == JsonValueKind.Object)
        {
            double? N(string p) => _agent.TryGetProperty(p, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
            sb.AppendLine("## What the clients saw\n");
            sb.AppendLine(I($"- Initial convergence (every client holds 7 (K − 1) routes): {N("convergedSeconds"):F1} s after GO."));
            sb.AppendLine(I($"- Churn: {N("churnAnnounced"):N0} /32s announced and withdrawn in {N("churnSeconds"):F0} s."));
            sb.AppendLine(I($"- Announcements delivered to the other clients: {N("deliveredAnnouncements"):N0}, {100 * N("deliveredRatio"):F2}% of announced × (K − 1) (below 100%: the DUT was more than 1 s behind and an announcement met its withdrawal in its queue)."));
            sb.AppendLine(_agent.TryGetProperty("drained", out var d) && d.ValueKind == JsonValueKind.True
                ? I($"- After the last withdrawal every client was back at 7 (K − 1) routes within {N("drainSeconds"):F1} s: no route lost, none left behind.\n")
                : I($"- **After the last withdrawal the clients did not get back to 7 (K − 1) routes each**: {N("routesHeldAtEnd"):N0} held, {N("routesExpectedAtEnd"):N0} expected.\n"));
        }
        sb.AppendLine("## Series\n");
        sb.AppendLine("| series | at churn start | after warm-up | at end | min – max after warm-up | slope per hour (± std. error) | % of mean per hour | verdict |");
        sb.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var (s, q) in series.Zip(Quantities))
        {
            var f = q.Format;
            sb.AppendLine(I($"| {s.Name} | {V(s.AtStart, f)} | {V(s.AtWarmup, f)} | {V(s.AtEnd, f)} | {V(s.Min, f)} – {V(s.Max, f)} | {Signed(s.SlopePerHour)} ± {s.StandardErrorPerHour:F2} {s.Unit} | {Signed(s.PercentPerHour)}% | {(s.Flat ? "flat" : "**grows**")} |"));
        }
        var cpu = _samples.Count > 1 ? (_samples[^1].CpuSeconds - _samples[0].CpuSeconds) / Math.Max(1, _samples[^1].Seconds - _samples[0].Seconds) : double.NaN;
        sb.AppendLine(I($"\nDUT CPU over the churn: {100 * cpu:F1}% of one core (utime + stime). {_samples.Count} samples; all of them in `plots/soak-samples.csv`.\n"));
        if (_samples.Count > 1)
        {
            var caption = SoakPlot.Draw(plotFile, _samples, [.. series.Zip(Quantities, (s, q) => (s, q.Value))], options.WarmupMinutes * 60);
            sb.AppendLine(I($"![{caption}](plots/soak.png)\n"));
        }
        sb.AppendLine(series.All(s => s.Flat) && _failure is null
            ? "Verdict (automatic): every series is flat after warm-up.\n"
            : I($"Verdict (automatic): {(series.Any(s => !s.Flat) ? "not flat: " + string.Join(", ", series.Where(s => !s.Flat).Select(s => s.Name)) : "the run failed")}.\n"));
        Directory.CreateDirectory(Path.Combine(dir, "plots"));
        await File.WriteAllTextAsync(options.Output, sb.ToString()).ConfigureAwait(false);
        await File.WriteAllLinesAsync(Path.Combine(dir, "plots", "soak-samples.csv"),
            ["seconds,rss_mib,gc_heap_mib,threads,open_handles,cpu_seconds", .. _samples.Select(s => I($"{s.Seconds:F1},{s.RssMiB:F2},{s.GcHeapMiB:F2},{s.Threads:F0},{s.Handles:F0},{s.CpuSeconds:F2}"))]).ConfigureAwait(false);
    }

    private static string V(double v, string format) => double.IsNaN(v) ? "—" : v.ToString(format, CultureInfo.InvariantCulture);

    private static string I(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    // A value that rounds to zero is "0.00": a two-section format gives a small negative one as "-+0.00".
    private static string Signed(double v) =>
        Math.Abs(v) < 0.005 ? "0.00" : v.ToString("+0.00;-0.00", CultureInfo.InvariantCulture);

    private static string LoadAverage()
    {
        try
        {
            return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "?";
        }
    }

    /// <summary>This process's nice value (field 19 of /proc/self/stat).</summary>
    private static int Nice()
    {
        var stat = File.ReadAllText("/proc/self/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[16], CultureInfo.InvariantCulture);
    }

    private static string Machine()
    {
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        var mem = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal", StringComparison.Ordinal)).Split(':')[1].Trim();
        var kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        return $"{Environment.ProcessorCount} cores ({cpu}), {mem} RAM, Linux {kernel}, .NET {Environment.Version}";
    }
}
