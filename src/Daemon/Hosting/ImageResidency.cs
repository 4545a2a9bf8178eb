using System.Globalization;
using System.Runtime.InteropServices;

namespace Calico.Bgp.Daemon.Hosting;

/// <summary>
/// Unmaps the pages of the daemon's own executable and shared libraries that it touched once and
/// no longer uses, so its resident memory is the code it runs, not the code it started with.
/// </summary>
/// <remarks>
/// <para>The Native AOT image is 8.8 MB, and an idle daemon had 10 MiB of it (and its libraries) resident,
/// three quarters of its 14 MiB: start-up runs the host's set-up, the config's parser and every
/// protocol's construction once, and each page fault on a file the page cache holds maps its
/// neighbours too (the kernel's fault-around, 64 KiB). BIRD 2's whole binary is under a megabyte.</para>
/// <para>For each private, read-only mapping of such a file that holds no page of its own (nothing
/// copied on write, as a relocated read-only segment is), <c>MADV_RANDOM</c> turns off readahead for
/// it, and <c>MADV_DONTNEED</c> drops its pages from the process: the page cache still has them, and
/// the next use of a page maps it back with a minor fault. Fault-around still maps the 64 KiB around
/// it (Linux 6.18: <c>MADV_RANDOM</c> does not stop that), which is why the image lays the code a
/// running daemon calls out together (IlcOrderFile, tools/image-order.sh). Done at
/// start (what the runtime's own start touched), then with every <see cref="MemoryReturner.CollectAndReturn"/>.
/// Measured (bench/RESULTS-perf.md, fifteenth round): an idle daemon 14.1 → 10.2 MiB (the file-backed
/// part 10.2 → 6.3: the GC's code and unwind tables come back with each collection); peak RSS 1.4–1.8 MiB
/// lower in P2 and P1, and 5 MiB lower a second after a withdrawn table.</para>
/// </remarks>
internal static partial class ImageResidency
{
    private const int MadvRandom = 1;
    private const int MadvDontNeed = 4;

    /// <summary>A mapping to release: its address range and the file it maps.</summary>
    internal readonly record struct Mapping(ulong Start, ulong End, string Path);

    /// <summary>Releases what can be released; returns the mappings released (none where <c>/proc</c> cannot be read).</summary>
    public static IReadOnlyList<Mapping> Release()
    {
        if (!OperatingSystem.IsLinux())
            return [];
        List<Mapping> released;
        try
        {
            released = Releasable(File.ReadLines("/proc/self/smaps"), Environment.ProcessPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
        foreach (var m in released)
        {
            var length = (nuint)(m.End - m.Start);
            // Advice only: a mapping the kernel refuses stays as it was.
            _ = Madvise((nint)m.Start, length, MadvRandom);
            _ = Madvise((nint)m.Start, length, MadvDontNeed);
        }
        return released;
    }

    /// <summary>
    /// The mappings of <paramref name="smaps"/> (<c>/proc/PID/smaps</c>' lines) that are safe to drop:
    /// private, not writable, of the executable (<paramref name="executable"/>) or a shared library,
    /// and with no anonymous page (a page copied on write would be lost: the file's would come back).
    /// </summary>
    internal static List<Mapping> Releasable(IEnumerable<string> smaps, string? executable)
    {
        var found = new List<Mapping>();
        Mapping? current = null;
        foreach (var line in smaps)
        {
            if (MappingHeader(line, executable, out var candidate))
            {
                current = candidate;
                continue;
            }
            if (current is { } m && line.StartsWith("Anonymous:", StringComparison.Ordinal))
            {
                if (KiloBytes(line) == 0)
                    found.Add(m);
                current = null;
            }
        }
        return found;
    }

    /// <summary>
    /// Whether <paramref name="line"/> starts a mapping (<c>start-end perms offset dev inode path</c>);
    /// <paramref name="candidate"/> is set when the mapping is one to consider.
    /// </summary>
    private static bool MappingHeader(string line, string? executable, out Mapping? candidate)
    {
        candidate = null;
        var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
        // The header's first field is a hex range; a field line's is a "Name:".
        if (fields.Length < 5 || fields[0].EndsWith(':'))
            return false;
        var dash = fields[0].IndexOf('-');
        if (dash <= 0)
            return false;
        if (!ulong.TryParse(fields[0].AsSpan(0, dash), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var start)
            || !ulong.TryParse(fields[0].AsSpan(dash + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var end))
            return false;
        var perms = fields[1];
        var path = fields.Length == 6 ? fields[5].Trim() : "";
        if (perms.Length == 4 && perms[0] == 'r' && perms[1] == '-' && perms[3] == 'p' && IsCode(path, executable))
            candidate = new Mapping(start, end, path);
        return true;
    }

    /// <summary>The executable, or a shared library (as the loader maps them: a path with <c>.so</c>, not deleted).</summary>
    private static bool IsCode(string path, string? executable) =>
        path.StartsWith('/') && !path.EndsWith(" (deleted)", StringComparison.Ordinal)
        && (path == executable || path.EndsWith(".so", StringComparison.Ordinal) || path.Contains(".so.", StringComparison.Ordinal));

    private static long KiloBytes(string line)
    {
        var value = line.AsSpan(line.IndexOf(':') + 1).Trim();
        var space = value.IndexOf(' ');
        return long.TryParse(space < 0 ? value : value[..space], NumberStyles.None, CultureInfo.InvariantCulture, out var kb) ? kb : -1;
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
