using System.Globalization;
using System.Text;

namespace Calico.Bgp.KernelBench;

/// <summary>The results as a markdown page: the machine, the command, a table, the ratios to BIRD 2.</summary>
public static class Report
{
    public static string Markdown(IReadOnlyList<Measurement> results, int routes, string arguments)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(c, $"# P5 — kernel route programming, {routes:N0} IPv4 /24 routes\n\n");
        sb.Append(c, $"- date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC\n");
        sb.Append(c, $"- machine: {Environment.ProcessorCount} CPUs (nproc), {MemoryGiB():F1} GiB memory, kernel {KernelRelease()}, load average at the end {LoadAverage()} (the machine is shared)\n");
        sb.Append(c, $"- command: `dotnet run -c Release --project bench/Kernel{(arguments.Length > 0 ? " -- " + arguments : "")}` (as root)\n");
        sb.Append("- each contender runs in a fresh network namespace; install = until every route is in the kernel table (our writer: every ACK; ")
          .Append("the others: the last RTM_NEWROUTE notification of proto bird), remove = until none is left. BIRD 2 is timed from process start ")
          .Append("(config parse included) and its removal from `birdc disable static1`.\n\n");
        sb.Append("| shape | contender | install (s) | install routes/s | remove (s) | remove routes/s |\n");
        sb.Append("| --- | --- | ---: | ---: | ---: | ---: |\n");
        foreach (var m in results)
            sb.Append(c, $"| {m.Shape} | {m.Contender} | {m.Install.TotalSeconds:F3} | {m.InstallRate:N0} | {m.Remove.TotalSeconds:F3} | {m.RemoveRate:N0} |\n");
        sb.Append("\n| shape | ratio ours / BIRD 2 (routes/s) | install | remove |\n| --- | --- | ---: | ---: |\n");
        foreach (var shape in results.Select(r => r.Shape).Distinct())
        {
            var bird = results.Single(r => r.Shape == shape && r.Contender.StartsWith("BIRD 2", StringComparison.Ordinal));
            foreach (var ours in results.Where(r => r.Shape == shape && r.Contender.StartsWith("our", StringComparison.Ordinal)))
                sb.Append(c, $"| {shape} | {ours.Contender} | {ours.InstallRate / bird.InstallRate:F2}× | {ours.RemoveRate / bird.RemoveRate:F2}× |\n");
        }
        return sb.ToString();
    }

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
