using System.Globalization;
using System.Text;
using Calico.Bgp.LoadGen.Orchestration;

namespace Calico.Bgp.LoadGen;

/// <summary>bench/RESULTS.md: per scenario a table of daemon × time, RSS, CPU with the ratio to BIRD 2, and the machine.</summary>
public sealed class Report(BenchOptions options, string[] args)
{
    private readonly List<Measurement> _results = [];
    private readonly string _loadBefore = LoadAverage();
    private readonly DateTime _started = DateTime.UtcNow;

    public IReadOnlyList<Measurement> Results => _results;

    /// <summary>Adds a measurement (a case's runs so far); the returned place is for <see cref="Replace"/>.</summary>
    public int Add(Measurement m)
    {
        _results.Add(m);
        return _results.Count - 1;
    }

    /// <summary>Puts <paramref name="m"/> where <see cref="Add"/> put an earlier state of the same case.</summary>
    public void Replace(int place, Measurement m) => _results[place] = m;

    private static string F(double? v, string format = "F2") => v is { } x ? x.ToString(format, CultureInfo.InvariantCulture) : "—";

    private static string Ratio(double? ours, double? bird) => ours is { } o && bird is { } b && b > 0 ? (o / b).ToString("F2", CultureInfo.InvariantCulture) + "×" : "—";

    public async Task WriteAsync(bool final)
    {
        var sb = new StringBuilder();
        var cmd = "bench/run.sh" + (options.Quick ? " --quick" : "") + (args.Length > 0 ? $"  (calico-loadgen {string.Join(' ', args)})" : "");
        sb.AppendLine("# Whole-daemon benchmarks: calico-bgpd beside BIRD 2, BIRD 1.6, GoBGP and FRR\n");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- Date: {_started:yyyy-MM-dd HH:mm} UTC{(final ? "" : " (run in progress: partial results)")}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- Command: `{cmd}`");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- Machine: {Machine()}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- Load average (1/5/15 min) before: {_loadBefore}; after: {LoadAverage()} — the machine is shared, other jobs ran beside these.");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- Runs per case: {options.Runs} (medians shown){(options.Quick ? "; quick mode: smaller sizes" : "")}. {(options.DutUnpinned ? "DUT not pinned (any core)" : "DUT pinned to core 1 (`taskset -c 1`)")}, generator and monitors on core 0.");
        sb.AppendLine("- Time: from GO (sessions up, UPDATEs pre-encoded) to the last route at the monitors (P3: in the DUT's kernel, as its RTM_NEWROUTE notification reaches a listener in the DUT's namespace). RSS: peak (VmHWM). DUT CPU: utime+stime from GO to the end. Gen CPU: the generator process over the same span. P1 then closes the feeding session: withdraw s is from the close to the last withdrawal at the monitor, its RSS the peak over the whole run (VmHWM after the withdrawal), its CPU the DUT's for that phase, and the RSS the DUT's a second after the last withdrawal. P2 then has every client leave at once: the peak RSS with the clients gone is the DUT's over the whole run once it is quiet again (no CPU used for 300 ms), and the CPU is what their departure took. P4's latency: from the client's send to the kernel's receive stamp (SO_TIMESTAMPNS) on each other client's socket.\n");
        foreach (var group in _results.GroupBy(r => r.Scenario))
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"## {Title(group.Key)}\n");
            var extra = group.Key switch
            {
                "P2" => " UPDATEs per client | peak RSS with the clients gone MiB | ×BIRD 2 | CPU for their departure s |",
                "P1" => " withdraw s | ×BIRD 2 | peak RSS with withdrawal MiB | ×BIRD 2 | withdraw CPU s | RSS 1 s after MiB |",
                "P4" => " p50 ms | p99 ms | withdraw p50 ms | withdraw p99 ms | missing |",
                "self" => " prefixes/s |",
                "P6" => " CPU % of a core | ×BIRD 2 | RSS start MiB | RSS end MiB | RSS slope MiB/h |",
                "P3" => " GO→agent ms | GO→first send ms | GO→all sent ms | first route ms | half ms | last route ms |",
                _ => "",
            };
            sb.AppendLine(CultureInfo.InvariantCulture, $"| case | daemon | time s | ×BIRD 2 | peak RSS MiB | ×BIRD 2 | DUT CPU s | ×BIRD 2 | gen CPU s |{extra} note |");
            sb.AppendLine("|" + string.Concat(Enumerable.Repeat(" --- |", 10 + extra.Count(c => c == '|'))));
            foreach (var m in group)
            {
                var bird = group.FirstOrDefault(b => b.Case == m.Case && b.Daemon == DutKind.Bird2);
                var name = m.Scenario == "self" ? "generator → null sink" : Dut.Name(m.Daemon);
                var extraCells = group.Key switch
                {
                    "P2" => $" {F(m.Extra("updatesPerClientAvg"), "F1")} | {F(m.Extra("departPeakRssMiB"), "F1")} | {Ratio(m.Extra("departPeakRssMiB"), bird?.Extra("departPeakRssMiB"))} | {F(m.Extra("departCpuSeconds"))} |",
                    "P1" => $" {F(m.Extra("withdrawSeconds"), "F3")} | {Ratio(m.Extra("withdrawSeconds"), bird?.Extra("withdrawSeconds"))} | {F(m.Extra("withdrawPeakRssMiB"), "F1")} | {Ratio(m.Extra("withdrawPeakRssMiB"), bird?.Extra("withdrawPeakRssMiB"))} | {F(m.Extra("withdrawCpuSeconds"))} | {F(m.Extra("rssAfterWithdrawMiB"), "F1")} |",
                    "P4" => $" {F(m.Extra("p50ms"))} | {F(m.Extra("p99ms"))} | {F(m.Extra("withdrawP50ms"))} | {F(m.Extra("withdrawP99ms"))} | {F(m.Extra("missing"), "F0")} |",
                    "self" => $" {F(m.Extra("prefixesPerSecond"), "N0")} |",
                    "P6" => $" {F(m.Extra("cpuPercent"))} | {Ratio(m.Extra("cpuPercent"), bird?.Extra("cpuPercent"))} | {F(m.Extra("rssStartMiB"), "F1")} | {F(m.Extra("rssEndMiB"), "F1")} | {F(m.Extra("rssSlopeMiBPerHour"), "F2")} |",
                    "P3" => $" {F(m.Extra("agentGoMs"))} | {F(m.Extra("firstSendMs"))} | {F(m.Extra("sentMs"))} | {F(m.Extra("firstRouteMs"))} | {F(m.Extra("halfRoutesMs"))} | {F(m.Extra("lastRouteMs"))} |",
                    _ => "",
                };
                sb.AppendLine(CultureInfo.InvariantCulture,
                    $"| {m.Case} | {name} | {F(m.Seconds, "F3")} | {Ratio(m.Seconds, bird?.Seconds)} | {F(m.PeakRssMiB, "F1")} | {Ratio(m.PeakRssMiB, bird?.PeakRssMiB)} | {F(m.DutCpuSeconds)} | {Ratio(m.DutCpuSeconds, bird?.DutCpuSeconds)} | {F(m.GeneratorCpuSeconds)} |{extraCells} {m.Note ?? ""} |");
            }
            sb.AppendLine();
            try
            {
                foreach (var plot in Plots.For(group.Key, group.ToList(), Path.GetDirectoryName(options.Output)!))
                    sb.AppendLine(CultureInfo.InvariantCulture, $"![{plot.Title}]({plot.RelativePath})\n");
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or KeyNotFoundException or ArgumentException)
            {
                // A plot is a bonus; the numbers above must still be written.
                sb.AppendLine(CultureInfo.InvariantCulture, $"(plot failed: {e.Message})\n");
            }
        }
        await File.WriteAllTextAsync(options.Output, sb.ToString()).ConfigureAwait(false);
    }

    private static string Title(string scenario) => scenario switch
    {
        "self" => "Generator self-check (P1's stream to a null sink over loopback, no DUT)",
        "P1" => "P1 pass-through: 1 eBGP peer → DUT → 1 eBGP monitor",
        "P2" => "P2 Calico route reflector: K clients × (2 /26 + 5 /32), ADD-PATH, until every client holds every route",
        "P3" => "P3 mesh node: 200 nodes × 2 /26 until all are in the DUT's kernel table (timed by the kernel's route notifications; FRR with zebra, GoBGP not run)",
        "P4" => "P4 churn through a route reflector: /32s announced and withdrawn 1 s later, latency to 10 other clients",
        "P6" => "P6 idle at scale: mesh peers, Calico's workload interfaces and /32 routes in the DUT's namespace, steady (kernel `learn` + `scan time 2`, device `scan time 2`, direct `-\"cali*\"`); DUT CPU s over the window; GoBGP/FRR need zebra: not run",
        _ => scenario,
    };

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

    private static string Machine()
    {
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        var mem = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal", StringComparison.Ordinal)).Split(':')[1].Trim();
        var kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        return $"{Environment.ProcessorCount} cores ({cpu}), {mem} RAM, Linux {kernel}, .NET {Environment.Version}";
    }
}
