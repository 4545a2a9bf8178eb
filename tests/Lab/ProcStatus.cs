using System.Globalization;

namespace Calico.Bgp.Lab;

/// <summary>Figures of a process of ours read from <c>/proc/PID</c> (memory bounds in fault tests).</summary>
public static class ProcStatus
{
    /// <summary>Resident memory in KiB (<c>VmRSS</c> of <c>/proc/PID/status</c>).</summary>
    public static long RssKiB(int pid) =>
        long.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
}
