using System.Globalization;

namespace Calico.Bgp.KernelBench;

/// <summary>CPU time (user + system) of processes, from /proc: the machine is shared, so wall time alone says little.</summary>
public static class Cpu
{
    private static readonly double TicksPerSecond = 100; // USER_HZ, 100 on Linux for every architecture we run on

    /// <summary>This process.</summary>
    public static TimeSpan Self() => Environment.CpuUsage.TotalTime;

    /// <summary>Another process by pid (utime + stime, fields 14 and 15 of /proc/PID/stat).</summary>
    public static TimeSpan Of(int pid) => TwoFields($"/proc/{pid}/stat", 14);

    /// <summary>A thread of this process by its kernel thread id (/proc/self/task/TID/stat).</summary>
    public static TimeSpan OfThread(int tid) => TwoFields($"/proc/self/task/{tid}/stat", 14);

    /// <summary>The kernel thread id of the calling thread (/proc/thread-self links to /proc/PID/task/TID).</summary>
    public static int CurrentThreadId() =>
        int.Parse(Path.GetFileName(new DirectoryInfo("/proc/thread-self").LinkTarget!), CultureInfo.InvariantCulture);

    /// <summary>This process's children that ended and were waited for (cutime + cstime): <c>ip -batch</c>.</summary>
    public static TimeSpan Children() => TwoFields("/proc/self/stat", 16);

    /// <summary>The sum of fields <paramref name="field"/> and the one after it (1-based, as proc(5) numbers them), in ticks.</summary>
    private static TimeSpan TwoFields(string path, int field)
    {
        var stat = File.ReadAllText(path);
        // The command name may hold spaces: fields are counted after its closing parenthesis (field 3 on).
        var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(f[field - 3], CultureInfo.InvariantCulture) + long.Parse(f[field - 2], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }
}
