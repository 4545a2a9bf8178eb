using System.Text.Json;
using Calico.Bgp.LoadGen.Orchestration;

namespace Calico.Bgp.LoadGen;

/// <summary>
/// Runs every selected scenario with every selected daemon, same inputs, one daemon at a time,
/// and rewrites the report after each run so a long run that is cut short still leaves numbers.
/// </summary>
/// <remarks>
/// A case's runs take turns between the daemons (ours, BIRD 2, ours, BIRD 2, …), not each daemon's
/// runs one after another: on a shared machine a slow minute then costs each daemon a run, not one
/// daemon its median (P4's tails moved by more between invocations than between the daemons;
/// bench/RESULTS-perf.md, twenty-eighth round).
/// </remarks>
public static class BenchRunner
{
    // P6 needs a daemon that writes the kernel table itself; GoBGP and FRR need zebra for that.
    private static readonly DutKind[] KernelCapable = [DutKind.Ours, DutKind.Bird2, DutKind.Bird16];

    // P3 runs FRR with its zebra (Dut.StartAsync). GoBGP is left out: its 3.10 zebra client panics on
    // FRR 8.4's ZAPI 6 interface messages whatever software-name it is given (frr7.5 to frr8.4 tried).
    private static readonly DutKind[] MeshCapable = [.. KernelCapable, DutKind.Frr];

    public static async Task<int> RunAsync(BenchOptions o, string[] args)
    {
        var report = new Report(o, args);
        // Each call makes one run; Case repeats them, taking turns.
        var s = new Scenarios(o);
        if (o.Has("self"))
        {
            if (o.P1Count > 0)
                await Case(report, o, "self", $"{o.P1Count} IPv4 /24", [DutKind.Ours], _ => s.SelfCheckAsync(o.P1Count, false)).ConfigureAwait(false);
            if (o.P1V6Count > 0)
                await Case(report, o, "self", $"{o.P1V6Count} IPv6 /48", [DutKind.Ours], _ => s.SelfCheckAsync(o.P1V6Count, true)).ConfigureAwait(false);
        }
        if (o.Has("P1"))
        {
            foreach (var v6 in (bool[])[false, true])
            {
                var count = v6 ? o.P1V6Count : o.P1Count;
                // --p1 0 or --p1v6 0 runs the other family alone (a stream of no prefixes never ends).
                if (count == 0)
                    continue;
                await Case(report, o, "P1", $"{count} {(v6 ? "IPv6 /48" : "IPv4 /24")}", o.Daemons, d => s.PassThroughAsync(d, count, v6, o.TimeoutSeconds)).ConfigureAwait(false);
            }
        }
        if (o.Has("P2"))
        {
            foreach (var k in o.P2Clients)
                await Case(report, o, "P2", $"K={k}", o.Daemons, d => s.ReflectorAsync(d, k, o.TimeoutSeconds)).ConfigureAwait(false);
        }
        if (o.Has("P3"))
        {
            await Case(report, o, "P3", $"{o.P3Nodes} nodes", [.. o.Daemons.Where(MeshCapable.Contains)], d => s.MeshAsync(d, o.P3Nodes, o.TimeoutSeconds)).ConfigureAwait(false);
        }
        if (o.Has("P4"))
        {
            foreach (var rate in o.P4Rates)
                await Case(report, o, "P4", $"{rate}/s", o.Daemons, d => s.ChurnAsync(d, rate, o.P4Seconds, o.P4Monitors, o.P4TraceDir)).ConfigureAwait(false);
        }
        if (o.Has("P6"))
        {
            await Case(report, o, "P6", $"{o.P6Peers} peers", [.. o.Daemons.Where(KernelCapable.Contains)], d => s.IdleAsync(d, o.P6Peers, o.P6Interfaces, o.P6Routes, o.P6Seconds)).ConfigureAwait(false);
        }
        await report.WriteAsync(final: true).ConfigureAwait(false);
        Console.Error.WriteLine($"written to {o.Output}");
        return 0;
    }

    /// <summary>
    /// <see cref="BenchOptions.Runs"/> runs of one case for each daemon, the daemons taking turns run
    /// by run; each daemon's runs become one measurement, rewritten into the report after every run.
    /// A daemon whose run failed or did not finish (<see cref="RunResult.GaveUp"/>) runs no more in the case.
    /// </summary>
    private static async Task Case(Report report, BenchOptions o, string scenario, string label, IReadOnlyList<DutKind> daemons, Func<DutKind, Task<Measurement>> run)
    {
        var runs = daemons.ToDictionary(d => d, _ => new List<RunResult>());
        var entries = daemons.ToDictionary(d => d, d => report.Add(new Measurement(scenario, label, d, [])));
        for (var r = 0; r < o.Runs; r++)
        {
            foreach (var d in daemons)
            {
                if (runs[d] is [.., { GaveUp: true }])
                    continue;
                runs[d].Add(await TryRun(scenario, label, d, run).ConfigureAwait(false));
                report.Replace(entries[d], new Measurement(scenario, label, d, [.. runs[d]]));
                await report.WriteAsync(final: false).ConfigureAwait(false);
            }
        }
    }

    /// <summary>One run (the scenario's call makes exactly one); a failure is a run with its reason as the note.</summary>
    private static async Task<RunResult> TryRun(string scenario, string label, DutKind d, Func<DutKind, Task<Measurement>> run)
    {
        try
        {
            return (await run(d).ConfigureAwait(false)).Runs.Single();
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or JsonException or KeyNotFoundException)
        {
            Console.Error.WriteLine($"{scenario} {label} {Dut.Name(d)} failed: {e.Message}");
            return new RunResult(null, double.NaN, double.NaN, double.NaN, default, $"failed: {FirstLine(e.Message)}", GaveUp: true);
        }
    }

    private static string FirstLine(string s)
    {
        var line = s.Split('\n')[0].Trim();
        return line.Length > 160 ? line[..160] + "…" : line;
    }
}
