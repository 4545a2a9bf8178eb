using System.Globalization;
using System.Text;

namespace Calico.Bgp.KernelBench;

/// <summary>The results as a markdown page: the machine, the command, the medians, the ratios to BIRD 2, every run.</summary>
public static class Report
{
    public static string Markdown(IReadOnlyList<Measurement> results, int routes, int runs, string arguments)
    {
        var c = CultureInfo.InvariantCulture;
        var medians = results.GroupBy(r => (r.Shape, r.Contender)).Select(g => Measurement.Median([.. g])).ToList();
        var sb = new StringBuilder();
        sb.Append(c, $"# P5 — kernel route programming, {routes:N0} IPv4 /24 routes\n\n");
        sb.Append(c, $"- date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC\n");
        sb.Append(c, $"- machine: {Environment.ProcessorCount} CPUs (nproc), {MemoryGiB():F1} GiB memory, kernel {KernelRelease()}, load average at the end {LoadAverage()} (the machine is shared)\n");
        // Native AOT (the daemon's image) or JIT: the command says which build ran.
        var command = System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported
            ? $"dotnet run -c Release --project bench/Kernel{(arguments.Length > 0 ? " -- " + arguments : "")}` (JIT"
            : $"dotnet publish bench/Kernel -c Release -r linux-x64 -p:PublishAot=true -o bench/.aot/kernel && bench/.aot/kernel/Calico.Bgp.KernelBench {arguments}` (Native AOT, as the daemon's image";
        sb.Append(c, $"- command: `{command}; as root)\n");
        sb.Append(c, $"- {runs} runs; in each run every contender goes once, back to back; the tables give the median of each figure over the runs.\n");
        sb.Append("- each contender runs in a fresh network namespace. install = until every route is in the kernel table with all its next hops ")
          .Append("(our writer: every ACK; the others, and the writer \"timed by the route counter\" (the floor like for like: the counter's thread parses every notification beside it, as it does beside ours and BIRD 2): the last RTM_NEWROUTE notification of proto bird), remove = until none is left. ")
          .Append("first→last = from the first complete route of ours in the kernel to the last (start-up, config parse and whatever precedes the first write left out). ")
          .Append("BIRD 2 is timed from process start (its parse of the 100,000-route static config included) and its removal from `birdc disable static1`; ")
          .Append("our KernelProtocol \"fed while it runs\" from the first `RoutingTable.Update` (the feed of 100,000 or, for ECMP, 400,000 updates ")
          .Append("by 4 owners included), \"filled before its start\" from `StartAsync` with every route in the table (the feed not timed, as BIRD's static routes ")
          .Append("exist before its kernel protocol exports them).\n")
          .Append("- our KernelProtocol's removal withdraws every prefix whole (all its paths) ")
          .Append(Scenarios.WithdrawAscending ? "from the lowest prefix up (`--withdraw ascending`). " : "in the table's own order (as `RoutingTable.WithdrawAll` walks it when a session goes down, and as BIRD's `disable` flushes its table in its own hash order). ")
          .Append("The writer deletes as it added (ascending), and in a random order (\"deleting Random\"): the kernel's cost per delete depends on the order.\n")
          .Append(Scenarios.NexthopObjects
              ? "- our writer and KernelProtocol write routes that name kernel nexthop objects (RTA_NH_ID; one object per gateway and one group per set of next hops, created before the first route that needs it), as the daemon does; BIRD 2 and ip write each route with its own gateways.\n"
              : "- our writer and KernelProtocol write each route with its own gateways (`--inline-nexthops`), as BIRD 2 and ip do.\n")
          .Append("- CPU = user + system seconds of the contender's process (kernel work in its sendmsg included): ours from this process less the route counter's thread ")
          .Append("(it parses every notification; its CPU is read from /proc/self/task and printed apart), BIRD 2 from /proc/PID/stat (from its start), ip from its exit.\n\n");
        sb.Append("| shape | contender | install (s) | install routes/s | first→last (s) | install CPU (s) | remove (s) | remove routes/s | remove CPU (s) |\n");
        sb.Append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        foreach (var m in medians)
            sb.Append(c, $"| {m.Shape} | {m.Contender} | {m.Install.TotalSeconds:F3} | {m.InstallRate:N0} | {m.FirstToLast.TotalSeconds:F3} | {m.InstallCpu.TotalSeconds:F3} | {m.Remove.TotalSeconds:F3} | {m.RemoveRate:N0} | {m.RemoveCpu.TotalSeconds:F3} |\n");
        sb.Append("\nTime ours / BIRD 2's (medians; the goal is at most 0.5). For ECMP each input against BIRD 2 given the same: ")
          .Append("multipath routes (one route per prefix carrying every next hop, a static `route P multipath via A via B …;`) against its ")
          .Append("multipath static routes, and N owners' routes merged by `merge paths on` (Calico's BGP paths) against one static per next hop ")
          .Append("merged the same way, and also against its multipath static routes (less work than merging); the writer against both:\n\n")
          .Append("| shape | contender | against | install | install first→last | install CPU | remove | remove CPU |\n| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
        foreach (var shape in medians.Select(r => r.Shape).Distinct())
        {
            foreach (var bird in medians.Where(r => r.Shape == shape && r.Contender is Scenarios.Bird2 or Scenarios.Bird2Merge))
            {
                var against = bird.Contender == Scenarios.Bird2Merge ? "BIRD 2, merge paths" : "BIRD 2";
                foreach (var ours in medians.Where(r => r.Shape == shape && r.Contender.StartsWith("our", StringComparison.Ordinal)))
                {
                    // Multipath routes are BIRD 2's multipath static input, not the merge of N statics.
                    if (bird.Contender == Scenarios.Bird2Merge && ours.Contender is Scenarios.ProtocolFedMultipath or Scenarios.ProtocolFilledMultipath)
                        continue;
                    sb.Append(c, $"| {shape} | {ours.Contender} | {against} | {Ratio(ours.Install, bird.Install)} | {Ratio(ours.FirstToLast, bird.FirstToLast)} | {Ratio(ours.InstallCpu, bird.InstallCpu)} ")
                      .Append(c, $"| {Ratio(ours.Remove, bird.Remove)} | {Ratio(ours.RemoveCpu, bird.RemoveCpu)} |\n");
                }
            }
        }
        sb.Append("\nEvery run (install s / first→last s / install CPU s / remove s / remove CPU s):\n\n");
        foreach (var g in results.GroupBy(r => (r.Shape, r.Contender)))
        {
            sb.Append(c, $"- {g.Key.Shape}, {g.Key.Contender}: ")
              .AppendJoin("; ", g.Select(m => string.Create(c, $"{m.Install.TotalSeconds:F3} / {m.FirstToLast.TotalSeconds:F3} / {m.InstallCpu.TotalSeconds:F3} / {m.Remove.TotalSeconds:F3} / {m.RemoveCpu.TotalSeconds:F3}")))
              .Append('\n');
        }
        return sb.ToString();
    }

    private static string Ratio(TimeSpan ours, TimeSpan bird) =>
        bird > TimeSpan.Zero ? (ours / bird).ToString("F2", CultureInfo.InvariantCulture) : "n/a";

    private static double MemoryGiB()
    {
        var line = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        var kib = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        return kib / 1024.0 / 1024.0;
    }

    private static string KernelRelease() => File.ReadAllText("/proc/sys/kernel/osrelease").Trim();

    /// <summary>/proc/loadavg's first three fields: other work on the machine skews every row alike.</summary>
    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
