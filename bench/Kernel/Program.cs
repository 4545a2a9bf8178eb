using System.Globalization;
using Calico.Bgp.KernelBench;
using Calico.Bgp.Lab;

// P5: install then remove N IPv4 /24 routes in fresh lab namespaces — our writer alone, our
// KernelProtocol fed from a RoutingTable, BIRD 2 and ip -batch, side by side in one run.
var routes = 100_000;
string? output = null;
string[]? only = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--routes":
            routes = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--out":
            output = args[++i];
            break;
        case "--only":
            // While tuning: a comma-separated subset of writer, protocol, bird2, ip; the report is not written.
            only = args[++i].Split(',');
            break;
        default:
            Console.Error.WriteLine("usage: calico-kernel-bench [--routes N] [--out FILE.md] [--only writer,protocol,bird2,ip]");
            return 2;
    }
}
output ??= Path.Combine(LabTools.RepoRoot, "bench", "RESULTS-kernel.md");

Shape[] shapes = [new("1 next hop", 1), new("4-way ECMP", 4)];
var results = new List<Measurement>();
foreach (var shape in shapes)
{
    (string Name, Func<Shape, int, Task<Measurement>> Run)[] contenders =
        [("writer", Scenarios.WriterAsync), ("protocol", Scenarios.KernelProtocolAsync), ("bird2", Scenarios.Bird2Async), ("ip", Scenarios.IpBatchAsync)];
    foreach (var (name, run) in contenders)
    {
        if (only is not null && !only.Contains(name))
            continue;
        var m = await run(shape, routes);
        Console.Error.WriteLine($"{m.Shape,-11} {m.Contender,-45} install {m.Install.TotalSeconds,7:F3} s  remove {m.Remove.TotalSeconds,7:F3} s");
        results.Add(m);
    }
}

if (only is not null)
    return 0;
var report = Report.Markdown(results, routes, string.Join(" ", args));
Console.WriteLine(report);
await File.WriteAllTextAsync(output, report);
Console.Error.WriteLine($"written to {output}");
return 0;
