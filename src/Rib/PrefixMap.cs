using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Calico.Bgp.Rib;

/// <summary>
/// The table's prefix → <see cref="RouteEntry"/> map: open addressing with linear probing over one
/// array of 8-byte cells that hold no references (a key's hash and number), and the entries in pages
/// indexed by that number, so a prefix costs a cell over the load factor and one reference.
/// </summary>
/// <remarks>
/// <para>One writer (the table's lock) and any number of readers that never lock and never wait.
/// A cell is empty (never used) or holds its key's hash, number and whether the key is gone, packed
/// in one word the writer writes with one volatile write: a reader sees all of a cell or none of it.
/// The entry of a number is one with routes or an empty one (the removal as the journal records it)
/// as a tombstone that remembers which key left. The writer grows or cleans the map by building a
/// new array of cells and publishing it with one volatile write; it never changes an array after
/// replacing it. A reader takes the array once and probes it with volatile reads.</para>
/// <para>The cells hold no references, so the GC never marks through them (at a million routes the
/// array is a large object whose cards, pointing at young routes, it scanned at every young
/// collection), and half as many bytes as a reference and a hash: a cache line holds eight and a
/// rebuild reads half as much (bench/RESULTS-perf.md, thirteenth round). The arrays are not the GC's
/// at all (<see cref="CellArray"/>): as large objects each growth set off a full collection.</para>
/// <para>A probe passes cells of other keys on the hash alone; on a match it loads the entry by the
/// number and compares its prefix (a dependent load, as the entry's prefix always was). A rebuild
/// places every key from its cell alone, reading the old array in order and no entry.</para>
/// <para>The hash is the map's own (<see cref="Hash"/>): eight neighbouring prefixes share a bucket of
/// eight cells, each in its own lane of it (<see cref="PrefixHash.Home"/>), so a table that arrives in
/// order (a peer sends its table sorted) touches a cache line per eight prefixes (eight cells fill one)
/// instead of one each; the probe for a new prefix was the table writer's costliest miss. A probe goes
/// on in its lane, bucket by bucket (<see cref="PrefixHash.Next"/>), passing one other group a step.</para>
/// <para>Within one array a key stays in the cell it first took: a removed key leaves its tombstone,
/// and only the same key takes that cell again. Each key's number is small, dense, handed out in
/// arrival order, the same while the key has an entry or a tombstone, and given to another key only
/// after a rebuild has dropped the tombstone. An exporter keeps its per-prefix state in an array
/// indexed by it (BIRD numbers its nets the same way) instead of hashing every prefix into a map of
/// its own. A reader still probing an old array may meet a number that has since gone to another
/// key: the entry's prefix (on a lookup) or its hash (on an enumeration) tells it, and it reads on.</para>
/// </remarks>
internal sealed class PrefixMap
{
    /// <summary>Grow or clean when used cells (entries and tombstones) pass this share of the array.</summary>
    private const double MaxLoad = 0.75;

    /// <summary>
    /// After a rebuild the entries fill this share: a full map grows by half, so rebuilds come after as
    /// many inserts again as half the entries. Each costs one pass over the old array and no entry's
    /// memory (the hash is kept), so the map's bytes per route decide the factor, not the copying.
    /// </summary>
    private const double LoadAfterRebuild = 0.5;

    private const int MinCapacity = 16;

    /// <summary>Entries a page holds (a power of two): 8 KiB of references, small enough for the GC's small-object heap.</summary>
    private const int PageBits = 10;
    private const int PageSize = 1 << PageBits;

    /// <summary>Per process, so which prefixes collide cannot be known from outside.</summary>
    private static readonly ulong Seed = (ulong)Random.Shared.NextInt64();

    /// <summary>
    /// A cell's parts in one word: the key's hash in bits 0–31, and above them its tag: 0 for an
    /// empty cell, else the key's number plus one (bits 32–62) and the tombstone mark (bit 63).
    /// </summary>
    private static class Cell
    {
        private const uint DeadBit = 0x8000_0000u;

        public static long Of(int hash, int number, bool dead) =>
            (long)(((ulong)((uint)(number + 1) | (dead ? DeadBit : 0)) << 32) | (uint)hash);

        public static bool IsEmpty(long cell) => cell == 0;

        public static int Hash(long cell) => (int)cell;

        public static int Number(long cell) => (int)((uint)((ulong)cell >> 32) & ~DeadBit) - 1;

        public static bool IsDead(long cell) => cell < 0;
    }

    /// <summary>
    /// An array of cells and the order its homes follow (<see cref="Home"/>), published together with
    /// one volatile write so a reader probes an array with the order it was built with.
    /// </summary>
    private sealed class Layout(CellArray cells, uint order)
    {
        public readonly CellArray Cells = cells;
        public readonly uint Order = order;

        /// <summary>Enumerations walking this array now (<see cref="EnterEnumeration"/>).</summary>
        public int Enumerators;

        /// <summary>1 once a rebuild replaced this array and may give its pages back (<see cref="Release"/>).</summary>
        public int Released;
    }

    private Layout _layout = new(new CellArray(MinCapacity), PrefixHash.Order(Seed, 0));
    private int _count;
    private int _tombstones;
    // Key numbers: the next never used, and those a rebuild freed (reused last freed first).
    private int _nextNumber;
    private int[] _freeNumbers = [];
    private int _freeCount;
    // The entries by number, in pages; a page goes when none of its numbers is taken.
    private RouteEntry?[]?[] _pages = [];
    private int[] _pageUse = [];

    /// <summary>How many times the writer chose a new order (<see cref="Rebuild"/>).</summary>
    private int _reorders;

    /// <summary>Entries in the map (tombstones not counted).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Cells in the current array (for tests and the memory notes).</summary>
    public int Capacity => Volatile.Read(ref _layout).Cells.Length;

    public RouteEntry? Find(in Prefix prefix) => Find(prefix, Hash(prefix));

    /// <summary>The entry of <paramref name="prefix"/>, whose <see cref="Hash"/> the caller has already.</summary>
    public RouteEntry? Find(in Prefix prefix, int hash)
    {
        ReadIndex(prefix, hash, out _, out var entry);
        return entry is EmptyRouteEntry ? null : entry;
    }

    /// <summary>
    /// A reader's probe: the number of <paramref name="prefix"/> and its entry or tombstone
    /// (<paramref name="entry"/>), or -1 and null. Volatile reads, so any thread may probe while the
    /// writer works.
    /// </summary>
    private int ReadIndex(in Prefix prefix, int hash, out int number, out RouteEntry? entry) =>
        ReadIndex(prefix, hash, Volatile.Read(ref _layout), out number, out entry);

    /// <summary>As a reader that took <paramref name="layout"/> (<see cref="LayoutForTests"/>) before the writer replaced it (tests).</summary>
    internal RouteEntry? FindFrom(object layout, in Prefix prefix)
    {
        ReadIndex(prefix, Hash(prefix), (Layout)layout, out _, out var entry);
        return entry is EmptyRouteEntry ? null : entry;
    }

    /// <summary>The array and order readers take now (tests, for <see cref="FindFrom"/>).</summary>
    internal object LayoutForTests => Volatile.Read(ref _layout);

    private int ReadIndex(in Prefix prefix, int hash, Layout layout, out int number, out RouteEntry? entry)
    {
        var found = Probe(prefix, hash, ref layout, out number, out entry);
        // The cells are the layout's native memory, freed by its finalizer: the array probed stays
        // reachable until the probe is done with it.
        GC.KeepAlive(layout);
        return found;
    }

    private int Probe(in Prefix prefix, int hash, ref Layout layout, out int number, out RouteEntry? entry)
    {
        var cells = layout.Cells;
        var i = PrefixHash.Home(hash, cells.Length, layout.Order);
        while (true)
        {
            var cell = Volatile.Read(ref cells[i]);
            if (Cell.IsEmpty(cell))
            {
                // A replaced array may have had its pages given back (Release), which reads as empty
                // cells: "not here" holds only if the array probed is still the map's.
                if (Volatile.Read(ref _layout) is var now && !ReferenceEquals(now, layout))
                {
                    layout = now;
                    cells = layout.Cells;
                    i = PrefixHash.Home(hash, cells.Length, layout.Order);
                    continue;
                }
                number = -1;
                entry = null;
                return -1;
            }
            if (Cell.Hash(cell) == hash)
            {
                number = Cell.Number(cell);
                entry = ReadEntry(number);
                // Null or another key's: a number a rebuild freed since this array was replaced.
                if (entry is not null && entry.IsFor(prefix))
                {
                    if (Cell.IsDead(cell))
                        entry = null; // the key's tombstone (in a bulk removal, its last entry until the removal ends)
                    return i;
                }
            }
            i = PrefixHash.Next(i, cells.Length);
        }
    }

    /// <summary>The entry or tombstone numbered <paramref name="number"/>, or null. Any thread.</summary>
    private RouteEntry? ReadEntry(int number)
    {
        var pages = Volatile.Read(ref _pages);
        var p = number >> PageBits;
        if ((uint)p >= (uint)pages.Length || Volatile.Read(ref Place(pages, p)) is not { } page)
            return null;
        return Volatile.Read(ref Place(page, number & (PageSize - 1)));
    }

    /// <summary>
    /// Element <paramref name="index"/> of an entry page or of the page table, bounds-checked, by
    /// reference. Not <c>ref array[index]</c>: for an element of a class type that is a runtime helper
    /// checking the array's type against the element's (an array of a derived type could stand for
    /// it), once per write of an entry (1.3 % of P1's window, bench/RESULTS-perf.md, twenty-eighth
    /// round). Both kinds of array are made here, as exactly the type they are read as.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref T? Place<T>(T?[] array, int index)
        where T : class
    {
        if ((uint)index >= (uint)array.Length)
            ThrowPlace(index);
        return ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(array), index);
    }

    private static void ThrowPlace(int index) =>
        throw new IndexOutOfRangeException($"place {index} is outside the prefix map's array");

    /// <summary>The writer's own read of a taken number's entry or tombstone.</summary>
    private RouteEntry WriterEntry(int number) => _pages[number >> PageBits]![number & (PageSize - 1)]!;

    /// <summary>Writes a taken number's entry or tombstone, adding its page if it has none. Writer only.</summary>
    private void WriteEntry(int number, RouteEntry entry)
    {
        ref var page = ref Place(_pages, number >> PageBits);
        if (page is null)
            Volatile.Write(ref page, new RouteEntry?[PageSize]);
        Volatile.Write(ref Place(page, number & (PageSize - 1)), entry);
    }

    /// <summary>
    /// The cell of <paramref name="prefix"/>'s entry or tombstone, else the empty cell that ends its
    /// probe, for <see cref="EntryAt"/> and then <see cref="Set(RouteEntry, in Prefix, int, int)"/> or
    /// <see cref="Remove(RouteEntry, in Prefix, int, int)"/>: the table's writer probes once per change,
    /// not once to look and again to write. Writer only; valid until the writer's next change.
    /// </summary>
    public int Locate(in Prefix prefix, int hash) => IndexOf(prefix, hash);

    /// <summary>The entry in a <see cref="Locate"/>d cell, or null when it is empty or a tombstone. Writer only.</summary>
    public RouteEntry? EntryAt(int cell)
    {
        var c = _layout.Cells[cell];
        return Cell.IsEmpty(c) || Cell.IsDead(c) ? null : WriterEntry(Cell.Number(c));
    }

    /// <summary>Adds or replaces the entry for its prefix; returns the prefix's number. Writer only.</summary>
    public int Set(RouteEntry entry)
    {
        var prefix = entry.Prefix;
        return Set(entry, prefix, Hash(prefix));
    }

    /// <summary>Adds or replaces the entry for <paramref name="prefix"/> (its own), with its <see cref="Hash"/>; returns the prefix's number. Writer only.</summary>
    public int Set(RouteEntry entry, in Prefix prefix, int hash) => Set(entry, prefix, hash, Locate(prefix, hash));

    /// <summary>As <see cref="Set(RouteEntry, in Prefix, int)"/> into the cell <see cref="Locate"/> gave. Writer only.</summary>
    public int Set(RouteEntry entry, in Prefix prefix, int hash, int cell)
    {
        var cells = _layout.Cells;
        var i = cell;
        var c = cells[i];
        if (!Cell.IsEmpty(c) && !Cell.IsDead(c))
        {
            var live = Cell.Number(c);
            WriteEntry(live, entry);
            return live;
        }
        if (Cell.IsEmpty(c) && _count + _tombstones + 1 > cells.Length * MaxLoad)
        {
            // Growing a map that has had no removal since its last rebuild keeps the order: every
            // key's new home is its old one scaled, so the rebuild writes the new array front to
            // back instead of at random.
            Rebuild(SlotsFor(_count + 1), keepOrder: _tombstones == 0);
            cells = _layout.Cells;
            i = Locate(prefix, hash);
            c = cells[i];
        }
        int number;
        if (!Cell.IsEmpty(c))
        {
            _tombstones--; // this key's own tombstone, taken back, with its number
            number = Cell.Number(c);
        }
        else
            number = TakeNumber();
        // The entry before the cell: a reader that sees the cell finds the entry.
        WriteEntry(number, entry);
        Volatile.Write(ref cells[i], Cell.Of(hash, number, dead: false));
        Volatile.Write(ref _count, _count + 1);
        return number;
    }

    private int TakeNumber()
    {
        var number = _freeCount > 0 ? _freeNumbers[--_freeCount] : _nextNumber;
        if (number == _nextNumber)
        {
            if (_nextNumber == int.MaxValue - 1)
                throw new InvalidOperationException("A table holds at most 2^31 - 2 prefixes.");
            _nextNumber++;
        }
        var p = number >> PageBits;
        if (p >= _pages.Length)
        {
            var grown = new RouteEntry?[]?[Math.Max(p + 1, _pages.Length * 2)];
            Array.Copy(_pages, grown, _pages.Length);
            Array.Resize(ref _pageUse, grown.Length);
            Volatile.Write(ref _pages, grown);
        }
        _pageUse[p]++;
        return number;
    }

    private void FreeNumber(int number)
    {
        if (_freeCount == _freeNumbers.Length)
            Array.Resize(ref _freeNumbers, Math.Max(16, _freeNumbers.Length * 2));
        _freeNumbers[_freeCount++] = number;
        ClearNumber(number);
    }

    /// <summary>Room in the free list for <paramref name="more"/> numbers, in one array rather than one per doubling.</summary>
    private void ReserveFreeNumbers(int more)
    {
        if (_freeCount + more > _freeNumbers.Length)
            Array.Resize(ref _freeNumbers, Math.Max(16, _freeCount + more));
    }

    /// <summary>Empties the number's place among the entries, and drops its page when that was the page's last.</summary>
    private void ClearNumber(int number)
    {
        var p = number >> PageBits;
        var page = _pages[p]!;
        Volatile.Write(ref Place(page, number & (PageSize - 1)), null);
        if (--_pageUse[p] == 0)
            Volatile.Write(ref Place(_pages, p), null); // readers still holding it read nulls or an old tombstone: both "not here"
    }

    /// <summary>Numbers handed out so far, at most: every key's number is below it (an exporter sizes its arrays by it).</summary>
    public int NumberLimit => Volatile.Read(ref _nextNumber);

    /// <summary>
    /// The number of <paramref name="prefix"/> (kept while it has an entry or a tombstone), or -1 when
    /// the map does not know it. Any thread; a number read while the writer works may be a moment old.
    /// </summary>
    public int NumberOf(in Prefix prefix)
    {
        ReadIndex(prefix, Hash(prefix), out var number, out _);
        return number;
    }

    /// <summary>
    /// Removes the entry for <paramref name="tombstone"/>'s prefix, leaving that empty entry as its
    /// tombstone; false when there was none. Writer only.
    /// </summary>
    public bool Remove(RouteEntry tombstone)
    {
        var prefix = tombstone.Prefix;
        return Remove(tombstone, prefix, Hash(prefix));
    }

    /// <summary>As <see cref="Remove(RouteEntry)"/>, with the prefix and its <see cref="Hash"/>. Writer only.</summary>
    public bool Remove(RouteEntry tombstone, in Prefix prefix, int hash) => Remove(tombstone, prefix, hash, Locate(prefix, hash)) >= 0;

    /// <summary>
    /// As <see cref="Remove(RouteEntry, in Prefix, int)"/> at the cell <see cref="Locate"/> gave; returns
    /// the prefix's number, or -1 when it had no entry. Writer only.
    /// </summary>
    public int Remove(RouteEntry tombstone, in Prefix prefix, int hash, int cell)
    {
        if (!tombstone.IsEmpty)
            throw new ArgumentException("A tombstone is an empty entry.", nameof(tombstone));
        var cells = _layout.Cells;
        var c = cells[cell];
        if (Cell.IsEmpty(c) || Cell.IsDead(c))
            return -1;
        // In a bulk removal the key's last entry stays its tombstone until the removal ends (see
        // DeferShrink and RemoveInBulk); otherwise the removal's empty entry is the tombstone, and the
        // routes go at once.
        if (_shrinkDeferred != 0)
            return RemoveInBulk(cell, out _);
        var number = Cell.Number(c);
        WriteEntry(number, tombstone);
        Kill(cells, cell, hash, number);
        ShrinkIfSparse();
        return number;
    }

    /// <summary>Marks a live cell its key's tombstone. Writer only.</summary>
    private void Kill(CellArray cells, int cell, int hash, int number)
    {
        Volatile.Write(ref cells[cell], Cell.Of(hash, number, dead: true));
        Volatile.Write(ref _count, _count - 1);
        _tombstones++;
    }

    /// <summary>
    /// Removes the live entry in <paramref name="cell"/> (from <see cref="Locate"/> or
    /// <see cref="WalkLive"/>) inside a <see cref="DeferShrink"/>, leaving that entry as the key's
    /// tombstone, and gives it as <paramref name="last"/>: the removal makes no object (the table's
    /// journal records it by that entry). Returns the key's number. Writer only.
    /// </summary>
    public int RemoveInBulk(int cell, out RouteEntry last)
    {
        if (_shrinkDeferred == 0)
            throw new InvalidOperationException("A removal in bulk runs inside DeferShrink.");
        var cells = _layout.Cells;
        var c = cells[cell];
        if (Cell.IsEmpty(c) || Cell.IsDead(c))
            throw new ArgumentException("The cell holds no live entry.", nameof(cell));
        var number = Cell.Number(c);
        last = WriterEntry(number);
        _bulkTombstones++;
        Kill(cells, cell, Cell.Hash(c), number);
        return number;
    }

    /// <summary>Whether a <see cref="DeferShrink"/> is open: removals may use <see cref="RemoveInBulk"/>. Writer only.</summary>
    public bool InBulkRemoval => _shrinkDeferred > 0;

    // Open DeferShrink scopes: while any is open, removals leave the array as it is, and the tombstones
    // they leave (counted) are the keys' last entries.
    private int _shrinkDeferred;
    private int _bulkTombstones;

    /// <summary>
    /// Holds back the array's shrinking while a removal in bulk runs (a session's routes withdrawn):
    /// shrunk as tombstones pass the entries, a withdrawn million-route table rebuilt at a half, a
    /// quarter, an eighth… left, each time into a new array; once at the end, it rebuilds once, into
    /// the array the survivors need. Meanwhile a removed key's tombstone is its last entry, not the
    /// removal's empty entry: a million of those (48 bytes each, kept until the shrink) were most of a
    /// withdrawn table's peak (bench/RESULTS-perf.md, fourteenth round). At the end, if no shrink is
    /// due, the tombstones left become empty entries, so the routes (and the protocol they name) are
    /// not kept. Dispose the scope to end it. Writer only.
    /// </summary>
    public ShrinkScope DeferShrink()
    {
        _shrinkDeferred++;
        return new ShrinkScope(this);
    }

    /// <summary>The end of a <see cref="DeferShrink"/>: the shrink held back, if due, happens at its dispose.</summary>
    public readonly struct ShrinkScope(PrefixMap map) : IDisposable
    {
        public void Dispose()
        {
            if (--map._shrinkDeferred == 0)
                map.EndBulkRemoval();
        }
    }

    private void EndBulkRemoval()
    {
        ShrinkIfSparse(); // a rebuild drops every tombstone
        if (_bulkTombstones == 0)
            return;
        _bulkTombstones = 0;
        var cells = _layout.Cells;
        for (var i = 0; i < cells.Length; i++)
        {
            var c = cells[i];
            if (Cell.IsDead(c) && WriterEntry(Cell.Number(c)) is var last && last is not EmptyRouteEntry)
                WriteEntry(Cell.Number(c), new EmptyRouteEntry(last.Prefix, last.Version));
        }
    }

    private void ShrinkIfSparse()
    {
        // Tombstones beyond the entries are mostly a full table withdrawn: give the memory back, in a
        // new order (removals in cell order leave one range of the old order, which the old order
        // would pack into one run of the smaller array). A map emptied one key at a time rebuilds at its
        // last removal too when its free list holds numbers, so that it numbers from 0 again (Rebuild).
        if ((_tombstones > _count && _tombstones > MinCapacity) || (_count == 0 && _freeCount > 0))
            Rebuild(SlotsFor(_count), keepOrder: false);
    }

    /// <summary>
    /// Adds the entries as they are now to <paramref name="entries"/> and their numbers to
    /// <paramref name="numbers"/>, at the same positions; each prefix appears once. Any thread.
    /// </summary>
    public void CopyTo(List<RouteEntry> entries, List<int> numbers)
    {
        var layout = EnterEnumeration();
        try
        {
            var cells = layout.Cells;
            for (var i = 0; i < cells.Length; i++)
            {
                if (LiveAt(cells, i, out var number) is { } entry)
                {
                    entries.Add(entry);
                    numbers.Add(number);
                }
            }
        }
        finally
        {
            ExitEnumeration(layout);
        }
    }

    /// <summary>The entries as they are now; each one is a consistent snapshot, each prefix appears once.</summary>
    public IEnumerable<RouteEntry> Entries()
    {
        var layout = EnterEnumeration();
        try
        {
            var cells = layout.Cells;
            for (var i = 0; i < cells.Length; i++)
            {
                if (LiveAt(cells, i, out _) is { } entry)
                    yield return entry;
            }
        }
        finally
        {
            ExitEnumeration(layout);
        }
    }

    /// <summary>
    /// The array an enumeration walks, counted so that a rebuild leaves its pages alone until the
    /// enumeration ends: the count goes up before the check that the array was not released, and the
    /// writer marks it released before it reads the count (both full fences), so either the writer sees
    /// the enumeration or the enumeration sees the release and takes the newer array.
    /// </summary>
    private Layout EnterEnumeration()
    {
        while (true)
        {
            var layout = Volatile.Read(ref _layout);
            Interlocked.Increment(ref layout.Enumerators);
            if (Volatile.Read(ref layout.Released) == 0)
                return layout;
            ExitEnumeration(layout);
        }
    }

    private void ExitEnumeration(Layout layout)
    {
        // The last enumeration out of a released array gives its pages back.
        if (Interlocked.Decrement(ref layout.Enumerators) == 0 && Volatile.Read(ref layout.Released) != 0)
            GiveBack(layout.Cells);
    }

    /// <summary>
    /// The writer's own walk over the map's array: each live entry with its cell and hash, so the
    /// writer changes it at that cell (<see cref="Set(RouteEntry, in Prefix, int, int)"/>,
    /// <see cref="Remove(RouteEntry, in Prefix, int, int)"/>) without probing for it again. The array must
    /// not be rebuilt meanwhile: add no prefix during the walk, and remove only inside a
    /// <see cref="DeferShrink"/>. Then every live cell's number is its own key's, and the readers'
    /// check of the entry's hash against the cell (<see cref="LiveAt"/>: a prefix hashed per entry, a
    /// tenth of a withdrawn table's teardown) is not needed. Writer only.
    /// </summary>
    public WriterWalk WalkLive() => new(this);

    /// <summary>A live cell met by <see cref="WalkLive"/>.</summary>
    public readonly record struct LiveCell(RouteEntry Entry, int Cell, int Hash);

    /// <summary>The enumerator of <see cref="WalkLive"/>.</summary>
    public struct WriterWalk(PrefixMap map)
    {
        private readonly CellArray _cells = map._layout.Cells;
        private int _i = -1;

        public LiveCell Current { get; private set; }

        public readonly WriterWalk GetEnumerator() => this;

        public bool MoveNext()
        {
            if (!ReferenceEquals(map._layout.Cells, _cells))
                throw new InvalidOperationException("The prefix map was rebuilt during the writer's walk over it.");
            while (++_i < _cells.Length)
            {
                var c = _cells[_i];
                if (!Cell.IsEmpty(c) && !Cell.IsDead(c))
                {
                    Current = new LiveCell(map.WriterEntry(Cell.Number(c)), _i, Cell.Hash(c));
                    return true;
                }
            }
            return false;
        }
    }

    /// <summary>
    /// An enumeration's read of cell <paramref name="i"/>: its key's entry, or null for an empty cell,
    /// a tombstone, or a number that went to another key after <paramref name="cells"/> was replaced
    /// (that key's hash is not the cell's; it has its own cell in a newer array, not in this one). So a
    /// key is met once per array, at its own cell.
    /// </summary>
    private RouteEntry? LiveAt(CellArray cells, int i, out int number)
    {
        var cell = Volatile.Read(ref cells[i]);
        number = Cell.Number(cell);
        if (Cell.IsEmpty(cell) || Cell.IsDead(cell) || ReadEntry(number) is not { } entry || entry is EmptyRouteEntry)
            return null;
        return Hash(entry.Prefix) == Cell.Hash(cell) ? entry : null;
    }

    /// <summary>Cell of <paramref name="prefix"/>'s entry or tombstone, else the empty cell that ends its probe. Writer only.</summary>
    private int IndexOf(in Prefix prefix, int hash)
    {
        var layout = _layout;
        var cells = layout.Cells;
        var i = PrefixHash.Home(hash, cells.Length, layout.Order);
        while (true)
        {
            var cell = cells[i];
            if (Cell.IsEmpty(cell) || (Cell.Hash(cell) == hash && WriterEntry(Cell.Number(cell)).IsFor(prefix)))
                return i;
            i = PrefixHash.Next(i, cells.Length);
        }
    }

    /// <summary>Cells for <paramref name="entries"/> at <see cref="LoadAfterRebuild"/>, a multiple of eight (<see cref="PrefixHash.Home"/>'s buckets).</summary>
    private static int SlotsFor(int entries) =>
        Math.Max(MinCapacity, (int)Math.Min(Array.MaxLength & ~7, Math.Ceiling(entries / LoadAfterRebuild) + 7) & ~7);

    /// <summary>
    /// Copies the keys (not the tombstones) into an array of <paramref name="capacity"/> cells and
    /// publishes it. Readers still probing the old array finish there: it is never written again.
    /// The keys are distinct, so each goes to the first empty cell from its home without comparing
    /// keys, and its home comes from the kept hash without touching the entry.
    /// </summary>
    /// <param name="keepOrder">
    /// Keep the homes' order (a growing map with no tombstones: its entries are spread as evenly as
    /// their hashes), so the old array's order is the new one's and the writes stream; otherwise take
    /// a new order, so that whatever range of the old order the entries left fill is spread over the new
    /// array (fifth round, bench/RESULTS-perf.md: a shrink in one order packed them into one run).
    /// </param>
    private void Rebuild(int capacity, bool keepOrder)
    {
        var fresh = new CellArray(capacity);
        var old = _layout;
        var order = keepOrder ? old.Order : PrefixHash.Order(Seed, ++_reorders);
        var cells = old.Cells;
        // With no key left (a table withdrawn whole) the numbering starts again from 0, instead of a
        // free list that holds every number the table had (4 MB at a million, kept after the table is
        // gone, and grown by doubling inside the withdrawal: a fifth of a 200k-prefix withdrawal's
        // time, bench/RESULTS-perf.md, sixteenth round). Every number is free then: the list's own and
        // the tombstones' below. Numbers reused while an exporter is behind are as when the list hands
        // them out: it finds its slot holding another prefix and withdraws that first.
        var noneLeft = _count == 0;
        if (!noneLeft)
            ReserveFreeNumbers(_tombstones);
        for (var j = 0; j < cells.Length; j++)
        {
            var cell = cells[j];
            if (Cell.IsEmpty(cell))
                continue;
            if (Cell.IsDead(cell))
            {
                // The tombstone goes, and with it the key's claim on its number.
                if (noneLeft)
                    ClearNumber(Cell.Number(cell));
                else
                    FreeNumber(Cell.Number(cell));
                continue;
            }
            var i = PrefixHash.Home(Cell.Hash(cell), capacity, order);
            while (!Cell.IsEmpty(fresh[i]))
                i = PrefixHash.Next(i, capacity);
            fresh[i] = cell;
        }
        _tombstones = 0;
        _bulkTombstones = 0;
        if (noneLeft)
        {
            _freeCount = 0;
            _freeNumbers = [];
            Volatile.Write(ref _nextNumber, 0);
        }
        Volatile.Write(ref _layout, new Layout(fresh, order));
        Release(old);
    }

    private int _givenBack;

    /// <summary>How many replaced arrays gave their pages back (tests).</summary>
    internal int ArraysGivenBack => Volatile.Read(ref _givenBack);

    /// <summary>The current array (tests: a replaced one reads as zeros once given back).</summary>
    internal CellArray CurrentCells => Volatile.Read(ref _layout).Cells;

    /// <summary>
    /// Gives the pages of a replaced array back to the system at once, unless an enumeration is still
    /// walking it (then the last one out does). Its finalizer frees it only once no reader holds it,
    /// after a collection: the arrays a million-route table grows through (37 MB) stayed resident
    /// until then, 19 MiB of P1's peak (bench/RESULTS-perf.md, fifteenth round). A probe still in the
    /// array reads the given-back pages as empty cells and tries again in the new one
    /// (<see cref="ReadIndex"/>). Writer only.
    /// </summary>
    private void Release(Layout old)
    {
        if (!old.Cells.CanGiveBack)
            return;
        Interlocked.Exchange(ref old.Released, 1);
        if (Volatile.Read(ref old.Enumerators) == 0)
            GiveBack(old.Cells);
    }

    /// <summary>Drops a replaced array's pages (<see cref="CellArray.GiveBack"/>): they read as empty cells from then on.</summary>
    private void GiveBack(CellArray cells)
    {
        Interlocked.Increment(ref _givenBack);
        cells.GiveBack();
    }

    /// <summary>Longest run of used cells (entries and tombstones) along the probes' path in the current array: the worst probe (tests).</summary>
    internal int LongestRun()
    {
        var cells = Volatile.Read(ref _layout).Cells;
        int longest = 0, run = 0;
        // Twice round the path (it visits every cell once), so a run that wraps past its start is measured whole.
        for (int n = 0, i = 0; n < 2 * cells.Length && run < cells.Length; n++, i = PrefixHash.Next(i, cells.Length))
        {
            run = Cell.IsEmpty(cells[i]) ? 0 : run + 1;
            longest = Math.Max(longest, run);
        }
        return longest;
    }

    /// <summary>Mean of the steps each key's probe takes from its home to its cell (tests: what an insert or a lookup passes).</summary>
    internal double MeanProbe()
    {
        var layout = Volatile.Read(ref _layout);
        var cells = layout.Cells;
        long steps = 0, keys = 0;
        for (var j = 0; j < cells.Length; j++)
        {
            var cell = cells[j];
            if (Cell.IsEmpty(cell))
                continue;
            keys++;
            for (var i = PrefixHash.Home(Cell.Hash(cell), cells.Length, layout.Order); i != j; i = PrefixHash.Next(i, cells.Length))
                steps++;
        }
        return keys == 0 ? 0 : (double)steps / keys;
    }

    /// <summary>The map's hash of <paramref name="prefix"/> (<see cref="PrefixHash.Of"/> with this map's seed).</summary>
    internal static int Hash(in Prefix prefix) => PrefixHash.Of(prefix, Seed);
}
