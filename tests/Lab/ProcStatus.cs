using System.Globalization;

namespace Calico.Bgp.Lab;

/// <summary>Figures of a process read from <c>/proc/PID/status</c> (memory bounds in fault tests, benchmark samples).</summary>
public static class ProcStatus
{
    /// <summary>Resident memory in KiB (<c>VmRSS</c>).</summary>
    public static long RssKiB(int pid) =>
        KiB(pid, "VmRSS") ?? throw new InvalidOperationException($"/proc/{pid}/status has no VmRSS");

    /// <summary>A field given in kB (<c>VmRSS</c>, <c>VmHWM</c>, …), in KiB; null when the status has no such field.</summary>
    public static long? KiB(int pid, string field)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return long.Parse(line[(field.Length + 1)..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);
        }
        return null;
    }
}
