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

    /// <summary>The reader's buffer: a header line with the longest path the loader maps fits in it.</summary>
    private const int ReadBuffer = 8 * 1024;

    /// <summary>Releases what can be released; returns the mappings released (none where <c>/proc</c> cannot be read).</summary>
    public static IReadOnlyList<Mapping> Release()
    {
        if (!OperatingSystem.IsLinux())
            return [];
        List<Mapping> released;
        try
        {
            // Unbuffered: the scan reads through its own buffer on the stack.
            using var smaps = new FileStream("/proc/self/smaps", FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
            released = Releasable(smaps, Environment.ProcessPath, stackalloc byte[ReadBuffer]);
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
    /// The mappings of <paramref name="smaps"/> (<c>/proc/PID/smaps</c>' text) that are safe to drop,
    /// read through <paramref name="buffer"/>: private, not writable, of the executable
    /// (<paramref name="executable"/>) or a shared library, and with no anonymous page.
    /// </summary>
    internal static List<Mapping> Releasable(Stream smaps, string? executable, Span<byte> buffer)
    {
        var scan = new SmapsScan(executable);
        scan.Read(smaps, buffer);
        return scan.Found;
    }

    /// <summary>As <see cref="Releasable(Stream, string?, Span{byte})"/>, from the text's lines (tests).</summary>
    internal static List<Mapping> Releasable(IEnumerable<string> smaps, string? executable)
    {
        var scan = new SmapsScan(executable);
        foreach (var line in smaps)
            scan.Line(System.Text.Encoding.UTF8.GetBytes(line));
        return scan.Found;
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
