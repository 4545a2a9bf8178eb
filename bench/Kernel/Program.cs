using System.Globalization;
using Calico.Bgp.KernelBench;
using Calico.Bgp.Lab;

// P5: install then remove N IPv4 /24 routes in fresh lab namespaces — our writer alone, our
// KernelProtocol fed from a RoutingTable (fed while running, and filled before its start), BIRD 2
// and ip -batch, back to back in one run, repeated; the report gives the medians.
var routes = 100_000;
var runs = 3;
string? output = null;
string[]? only = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--routes":
            routes = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--runs":
            runs = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--out":
            output = args[++i];
            break;
        case "--only":
            // While tuning: a comma-separated subset of writer, fed, filled, bird2, ip; the report is not written.
            only = args[++i].Split(',');
            break;
        default:
            Console.Error.WriteLine("usage: calico-kernel-bench [--routes N] [--runs N] [--out FILE.md] [--only writer,fed,filled,bird2,ip]");
            return 2;
    }
}
output ??= Path.Combine(LabTools.RepoRoot, "bench", "RESULTS-kernel.md");

Shape[] shapes = [new("1 next hop", 1), new("4-way ECMP", 4)];
(string Name, Func<Shape, int, Task<Measurement>> Run)[] contenders =
[
    ("writer", Scenarios.WriterAsync),
    ("fed", (s, n) => Scenarios.KernelProtocolAsync(s, n, filled: false)),
    ("filled", (s, n) => Scenarios.KernelProtocolAsync(s, n, filled: true)),
    ("bird2", Scenarios.Bird2Async),
    ("ip", Scenarios.IpBatchAsync),
];
var results = new List<Measurement>();
for (var run = 1; run <= runs; run++)
{
    // Every contender of a run back to back, so a change in the machine's load hits them alike.
    foreach (var shape in shapes)
    {
        foreach (var (name, go) in contenders)
        {
            if (only is not null && !only.Contains(name))
                continue;
            var m = await go(shape, routes);
            Console.Error.WriteLine($"run {run} {m.Shape,-11} {m.Contender,-50} install {m.Install.TotalSeconds,7:F3} s (first→last {m.FirstToLast.TotalSeconds,6:F3} s, CPU {m.InstallCpu.TotalSeconds,6:F3} s)  remove {m.Remove.TotalSeconds,7:F3} s (CPU {m.RemoveCpu.TotalSeconds,6:F3} s)");
            results.Add(m);
        }
    }
}

if (only is not null)
    return 0;
var report = Report.Markdown(results, routes, runs, string.Join(" ", args));
Console.WriteLine(report);
await File.WriteAllTextAsync(output, report);
Console.Error.WriteLine($"written to {output}");
return 0;
