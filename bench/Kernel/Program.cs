using System.Globalization;
using Calico.Bgp.KernelBench;

// P5: install then remove N IPv4 /24 routes in fresh lab namespaces — our writer alone, our
// KernelProtocol fed from a RoutingTable (fed while running, and filled before its start), BIRD 2
// and ip -batch, back to back in one run, repeated; the report gives the medians.
var routes = 100_000;
var runs = 3;
string? output = null;
string[]? only = null;
string[]? shapeFilter = null;
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
        case "--perf":
            // perf record -g of this process around each install and removal of ours, one file per phase.
            Profiler.Directory = args[++i];
            break;
        case "--shapes":
            // While tuning: 1 (one next hop), 4 (4-way ECMP) or 1,4.
            shapeFilter = args[++i].Split(',');
            break;
        case "--withdraw":
            // table (default: the table's own order, as a flush) or ascending (from the lowest prefix up).
            Scenarios.WithdrawAscending = args[++i] switch
            {
                "ascending" => true,
                "table" => false,
                var other => throw new ArgumentException($"--withdraw table|ascending, not {other}"),
            };
            break;
        case "--counter":
            // block (default: recv per notification, woken per route) or drain (every ~1 ms, recvmmsg; see RouteCounter.Mode).
            RouteCounter.Mode = args[++i] switch
            {
                "block" => CounterMode.Block,
                "drain" => CounterMode.Drain,
                var other => throw new ArgumentException($"--counter block|drain, not {other}"),
            };
            break;
        case "--inline-nexthops":
            // Every route written with its own gateways (the protocol's NexthopObjects off), as before nexthop objects and as BIRD writes.
            Scenarios.NexthopObjects = false;
            break;
        case "--only":
            // While tuning: a comma-separated subset of writer, fed, filled, bird2, ip; the report is not written.
            only = args[++i].Split(',');
            break;
        default:
            Console.Error.WriteLine("usage: calico-kernel-bench [--routes N] [--runs N] [--out FILE.md (the report is printed; also written there)] [--only writer,writer-counted,fed,filled,fed-mp,filled-mp,bird2,bird2-merge,ip] [--shapes 1,4] [--perf DIR] [--withdraw table|ascending] [--counter block|drain] [--inline-nexthops]");
            return 2;
    }
}

Shape[] shapes = [.. new Shape[] { new("1 next hop", 1), new("4-way ECMP", 4) }.Where(s => shapeFilter is null || shapeFilter.Contains(s.Paths.ToString(CultureInfo.InvariantCulture)))];
(string Name, Func<Shape, int, Task<Measurement>> Run)[] contenders =
[
    ("writer", Scenarios.WriterAsync),
    ("writer-random", (s, n) => Scenarios.WriterAsync(s, n, Scenarios.DeleteOrder.Random)),
    ("fed", (s, n) => Scenarios.KernelProtocolAsync(s, n, filled: false)),
    ("filled", (s, n) => Scenarios.KernelProtocolAsync(s, n, filled: true)),
    // ECMP from one route per prefix carrying every next hop (a multipath static route): BIRD 2's input.
    ("fed-mp", (s, n) => Scenarios.KernelProtocolAsync(s, n, filled: false, multipathRoutes: true)),
    ("filled-mp", (s, n) => Scenarios.KernelProtocolAsync(s, n, filled: true, multipathRoutes: true)),
    ("bird2", Scenarios.Bird2Async),
    // ECMP from N routes merged on export (our protocol's input); one next hop is the same as bird2.
    ("bird2-merge", (s, n) => Scenarios.Bird2Async(s, n, merge: true)),
    ("ip", Scenarios.IpBatchAsync),
    // While tuning (only with --only): the writer deleting in other orders than it added.
    ("writer-reverse", (s, n) => Scenarios.WriterAsync(s, n, Scenarios.DeleteOrder.Reverse)),
    ("writer-interleaved", (s, n) => Scenarios.WriterAsync(s, n, Scenarios.DeleteOrder.Interleaved)),
    ("writer-chunkrandom", (s, n) => Scenarios.WriterAsync(s, n, Scenarios.DeleteOrder.ChunkRandom)),
    ("writer-chunksorted", (s, n) => Scenarios.WriterAsync(s, n, Scenarios.DeleteOrder.ChunkSorted)),
    ("writer-randomboth", (s, n) => Scenarios.WriterAsync(s, n, Scenarios.DeleteOrder.RandomBoth)),
    // The floor like for like: the writer timed by the route counter, as ours and BIRD 2 are.
    ("writer-counted", Scenarios.WriterCountedAsync),
];
var results = new List<Measurement>();
for (var run = 1; run <= runs; run++)
{
    // Every contender of a run back to back, so a change in the machine's load hits them alike.
    foreach (var shape in shapes)
    {
        foreach (var (name, go) in contenders)
        {
            // By default the writer deletes as added and in a random order (also timed by the route counter); the other orders only when asked for.
            if (only is null ? name.StartsWith("writer-", StringComparison.Ordinal) && name is not ("writer-random" or "writer-counted") : !only.Contains(name))
                continue;
            // With one next hop these are the same input as bird2 and filled/fed.
            if (name is "bird2-merge" or "fed-mp" or "filled-mp" && shape.Paths == 1)
                continue;
            var m = await go(shape, routes);
            Console.Error.WriteLine($"run {run} {m.Shape,-11} {m.Contender,-50} install {m.Install.TotalSeconds,7:F3} s (first→last {m.FirstToLast.TotalSeconds,6:F3} s, CPU {m.InstallCpu.TotalSeconds,6:F3} s)  remove {m.Remove.TotalSeconds,7:F3} s (CPU {m.RemoveCpu.TotalSeconds,6:F3} s)");
            results.Add(m);
        }
    }
}

if (only is not null || shapeFilter is not null)
    return 0;
var report = Report.Markdown(results, routes, runs, string.Join(" ", args));
Console.WriteLine(report);
// Only where asked: bench/RESULTS-kernel.md is written by hand around these reports, and a run that
// wrote over it by default lost its other sections.
if (output is not null)
{
    await File.WriteAllTextAsync(output, report);
    Console.Error.WriteLine($"written to {output}");
}
return 0;
