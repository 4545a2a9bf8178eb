using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Calico.Bgp.Rib;

/// <summary>
/// One array of a <see cref="PrefixMap"/>'s 8-byte cells, in memory the GC does not manage: zeroed
/// (every cell empty) when made, freed by the finalizer once no reader holds it.
/// </summary>
/// <remarks>
/// <para>As a <c>long[]</c> a million-route map's arrays were large objects: each growth spent the
/// large-object budget and set off a full collection that marked every route (3 % of P1's window,
/// bench/RESULTS-perf.md, seventeenth round), and the smaller ones were cleared by the GC's allocator.
/// The cells hold no references, so the GC needs nothing from them.</para>
/// <para>From a page of cells up (<see cref="MappedCells"/>) the array is its own anonymous mapping,
/// faulted in writable when it is made (<c>MAP_POPULATE</c>): the map's rebuild reads each cell before
/// it writes it, and a page first read maps the shared zero page and is then copied on its first write,
/// with a TLB flush on every core the daemon runs on (sixteenth round). <see cref="GiveBack"/> drops its
/// pages while a reader may still hold it: they read as zeros, empty cells, until the mapping goes with
/// the object. A replaced array waits for a collection before its finalizer runs; given back at once,
/// it holds no memory meanwhile. Smaller arrays come from the C heap and are cleared by writing.</para>
/// <para>The GC is not told of the memory (<c>AddMemoryPressure</c>): that would set off the full
/// collections this class is here to avoid.</para>
/// <para>A reader keeps the object alive for as long as it reads the cells (<see cref="GC.KeepAlive"/>
/// after its last read): the finalizer would otherwise free them under it.</para>
/// </remarks>
internal sealed unsafe partial class CellArray
{
    /// <summary>Arrays of at least this many cells (a page) are mappings of their own, which <see cref="GiveBack"/> empties.</summary>
    public static readonly int MappedCells = Environment.SystemPageSize / sizeof(long);

    private readonly long* _cells;
    private readonly nuint _bytes;
    private readonly bool _mapped;

    public CellArray(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        Length = length;
        _bytes = (nuint)length * sizeof(long);
        if (length >= MappedCells && OperatingSystem.IsLinux())
        {
            var address = Mmap(0, _bytes, ProtRead | ProtWrite, MapPrivate | MapAnonymous | MapPopulate, -1, 0);
            if (address == MapFailed)
                throw new OutOfMemoryException($"mmap of {_bytes} bytes for the prefix map failed: errno {Marshal.GetLastPInvokeError()}");
            _cells = (long*)address;
            _mapped = true;
        }
        else
        {
            _cells = (long*)NativeMemory.Alloc(_bytes);
            new Span<long>(_cells, length).Clear();
        }
    }

    /// <summary>Cells in the array.</summary>
    public int Length { get; }

    /// <summary>Cell <paramref name="index"/>, checked against the array's length.</summary>
    public ref long this[int index]
    {
        // Inlined by request: the AOT compiler, without a call site to weigh, left it a call (bench/RESULTS-perf.md, twenty-first round).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if ((uint)index >= (uint)Length)
                ThrowIndex(index);
            return ref _cells[index];
        }
    }

    /// <summary>Whether <see cref="GiveBack"/> empties the array (a mapping of its own).</summary>
    public bool CanGiveBack => _mapped;

    /// <summary>
    /// Drops the pages of a mapped array (<c>MADV_DONTNEED</c>): they leave the process and read as
    /// zeros (empty cells) from then on. Nothing for an array from the C heap.
    /// </summary>
    public void GiveBack()
    {
        if (_mapped)
            _ = Madvise((nint)_cells, _bytes, MadvDontNeed);
    }

    /// <summary>The cells as an array (tests).</summary>
    public long[] ToArray() => new ReadOnlySpan<long>(_cells, Length).ToArray();

    ~CellArray()
    {
        if (_mapped)
            _ = Munmap((nint)_cells, _bytes);
        else
            NativeMemory.Free(_cells);
    }

    private static void ThrowIndex(int index) =>
        throw new IndexOutOfRangeException($"cell {index} is outside the array");

    private const int ProtRead = 1;
    private const int ProtWrite = 2;
    private const int MapPrivate = 0x02;
    private const int MapAnonymous = 0x20;
    private const int MapPopulate = 0x8000;
    private const int MadvDontNeed = 4;
    private static readonly nint MapFailed = -1;

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap")]
    private static partial int Munmap(nint address, nuint length);

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
