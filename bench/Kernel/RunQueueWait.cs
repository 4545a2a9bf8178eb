using System.Globalization;

namespace Calico.Bgp.KernelBench;

/// <summary>
/// How long this process's threads were runnable but waiting for a CPU (the second field of
/// /proc/self/task/TID/schedstat, run-queue delay in ns): on two shared cores the loop, the writer and
/// the route counter wait for each other and for other processes, and this tells that apart from work.
/// </summary>
public static class RunQueueWait
{
    /// <summary>The sum over this process's threads alive now.</summary>
    public static TimeSpan Total()
    {
        long ns = 0;
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                var f = File.ReadAllText(Path.Combine(task, "schedstat")).Split(' ');
                ns += long.Parse(f[1], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // The thread ended meanwhile.
            }
        }
        return TimeSpan.FromTicks(ns / 100);
    }
}
