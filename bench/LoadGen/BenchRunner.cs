using System.Text.Json;
using Calico.Bgp.LoadGen.Orchestration;

namespace Calico.Bgp.LoadGen;

/// <summary>
/// Runs every selected scenario with every selected daemon, same inputs, one daemon at a time,
/// and rewrites the report after each case so a long run that is cut short still leaves numbers.
/// </summary>
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
        var s = new Scenarios(o);
        if (o.Has("self"))
        {
            if (o.P1Count > 0)
                await Try(report, "self", $"{o.P1Count} IPv4 /24", DutKind.Ours, () => s.SelfCheckAsync(o.P1Count, false)).ConfigureAwait(false);
            if (o.P1V6Count > 0)
                await Try(report, "self", $"{o.P1V6Count} IPv6 /48", DutKind.Ours, () => s.SelfCheckAsync(o.P1V6Count, true)).ConfigureAwait(false);
        }
        if (o.Has("P1"))
        {
            foreach (var v6 in (bool[])[false, true])
            {
                var count = v6 ? o.P1V6Count : o.P1Count;
                // --p1 0 or --p1v6 0 runs the other family alone (a stream of no prefixes never ends).
                if (count == 0)
                    continue;
                foreach (var d in o.Daemons)
                {
                    await Try(report, "P1", $"{count} {(v6 ? "IPv6 /48" : "IPv4 /24")}", d, () => s.PassThroughAsync(d, count, v6, o.TimeoutSeconds)).ConfigureAwait(false);
                }
            }
        }
        if (o.Has("P2"))
        {
            foreach (var k in o.P2Clients)
            {
                foreach (var d in o.Daemons)
                    await Try(report, "P2", $"K={k}", d, () => s.ReflectorAsync(d, k, o.TimeoutSeconds)).ConfigureAwait(false);
            }
        }
        if (o.Has("P3"))
        {
            foreach (var d in o.Daemons.Where(MeshCapable.Contains))
                await Try(report, "P3", $"{o.P3Nodes} nodes", d, () => s.MeshAsync(d, o.P3Nodes, o.TimeoutSeconds)).ConfigureAwait(false);
        }
        if (o.Has("P4"))
        {
            foreach (var rate in o.P4Rates)
            {
                foreach (var d in o.Daemons)
                    await Try(report, "P4", $"{rate}/s", d, () => s.ChurnAsync(d, rate, o.P4Seconds, o.P4Monitors, o.P4TraceDir)).ConfigureAwait(false);
            }
        }
        if (o.Has("P6"))
        {
            foreach (var d in o.Daemons.Where(KernelCapable.Contains))
                await Try(report, "P6", $"{o.P6Peers} peers", d, () => s.IdleAsync(d, o.P6Peers, o.P6Interfaces, o.P6Routes, o.P6Seconds)).ConfigureAwait(false);
        }
        await report.WriteAsync(final: true).ConfigureAwait(false);
        Console.Error.WriteLine($"written to {o.Output}");
        return 0;
    }

    private static async Task Try(Report report, string scenario, string label, DutKind d, Func<Task<Measurement>> run)
    {
        try
        {
            report.Add(await run().ConfigureAwait(false));
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or JsonException or KeyNotFoundException)
        {
            Console.Error.WriteLine($"{scenario} {label} {Dut.Name(d)} failed: {e.Message}");
            report.Add(new Measurement(scenario, label, d, [new RunResult(null, double.NaN, double.NaN, double.NaN, default, $"failed: {FirstLine(e.Message)}")]));
        }
        await report.WriteAsync(final: false).ConfigureAwait(false);
    }

    private static string FirstLine(string s)
    {
        var line = s.Split('\n')[0].Trim();
        return line.Length > 160 ? line[..160] + "…" : line;
    }
}
