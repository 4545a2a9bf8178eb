using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Calico.Bgp.Speaker.Export;

/// <summary>
/// One family's Adj-RIB-Out slots, indexed by the table's prefix number (<see cref="Rib.TableChange.Number"/>):
/// pages of <see cref="PageSize"/> slots outside the GC heap, made when a slot in them is first written
/// and freed when their last slot is emptied. No hashing and no probing: the numbers are dense and
/// handed out in arrival order, so a table that arrives in order is written front to back.
/// </summary>
/// <remarks>
/// The open-addressed map this replaces hashed every prefix into one array of up to 32 MB at a
/// million routes: a cache and TLB miss per change, and each growth a new array written at random
/// (bench/RESULTS-perf.md, eighth and eleventh rounds). Pages are never copied or moved. One writer
/// (the group's lock); the GC never sees the pages (no references in them).
/// <para>The price is paid by a group that exports a thin, scattered share of a big table: each page
/// that holds one of its prefixes costs the whole page (8 KiB of IPv4), so a group exporting 1 % of a
/// million prefixes at random holds all the pages (8 MB), where a map held a few hundred KiB.
/// Calico's groups are the other kind: a reflector or a mesh exports nearly its whole table, and a
/// node's own few blocks arrive first and share the first pages.</para>
/// </remarks>
internal sealed unsafe class PagedSlots<TSlot> : IDisposable where TSlot : unmanaged, IOutSlot<TSlot>
{
    private const int PageBits = 10;

    /// <summary>Slots per page: 8 KiB of IPv4 slots, 20 KiB of IPv6.</summary>
    public const int PageSize = 1 << PageBits;

    private const int PageMask = PageSize - 1;

    private nint[] _pages = [];
    private int[] _used = [];

    /// <summary>Slots in use.</summary>
    public int Count { get; private set; }

    /// <summary>Numbers the pages made so far could hold (every used slot's number is below it).</summary>
    public int Length => _pages.Length << PageBits;

    /// <summary>Pages held now (tests: an emptied page is given back).</summary>
    public int Pages
    {
        get
        {
            var n = 0;
            foreach (var p in _pages)
                n += p != 0 ? 1 : 0;
            return n;
        }
    }

    /// <summary>The slot of <paramref name="number"/>: empty (default) where no page was made.</summary>
    public TSlot this[int number]
    {
        // Inlined by request: the AOT compiler, without a call site to weigh, left it a call, and its callers copied the slot to the stack to ask it anything (bench/RESULTS-perf.md, twenty-first round).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            var page = number >> PageBits;
            if ((uint)page >= (uint)_pages.Length || _pages[page] == 0)
                return default;
            return ((TSlot*)_pages[page])[number & PageMask];
        }
    }

    /// <summary>Writes the slot of <paramref name="number"/> (default empties it), keeping the counts and the pages.</summary>
    public void Put(int number, in TSlot slot)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(number);
        var page = number >> PageBits;
        if (page >= _pages.Length)
        {
            if (!slot.IsUsed)
                return;
            var length = Math.Max(page + 1, _pages.Length * 2);
            Array.Resize(ref _pages, length);
            Array.Resize(ref _used, length);
        }
        var items = (TSlot*)_pages[page];
        if (items is null)
        {
            if (!slot.IsUsed)
                return;
            // Zeroed by writing, not calloc's way: fresh memory from calloc is left untouched, and the
            // read of the slot below then mapped each page to the zero page before the write copied
            // it, with a TLB flush on every core the daemon runs on (10-17 % of the export's threads
            // in P1, bench/RESULTS-perf.md, sixteenth round).
            items = (TSlot*)NativeMemory.Alloc(PageSize, (nuint)sizeof(TSlot));
            new Span<TSlot>(items, PageSize).Clear();
            _pages[page] = (nint)items;
        }
        ref var s = ref items[number & PageMask];
        var delta = (slot.IsUsed ? 1 : 0) - (s.IsUsed ? 1 : 0);
        s = slot;
        Count += delta;
        _used[page] += delta;
        if (_used[page] == 0)
        {
            // The page's last prefix went: give the memory back (a table withdrawn returns it all).
            NativeMemory.Free(items);
            _pages[page] = 0;
        }
    }

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    ~PagedSlots() => Free();

    private void Free()
    {
        for (var i = 0; i < _pages.Length; i++)
        {
            if (_pages[i] != 0)
                NativeMemory.Free((void*)_pages[i]);
            _pages[i] = 0;
        }
    }
}
