namespace Calico.Bgp.Rib;

/// <summary>
/// The table's prefix → <see cref="RouteEntry"/> map: open addressing with linear probing over one
/// array of cells, keyed by each entry's own prefix, so a prefix costs one cell (a reference and its
/// key's hash, 16 bytes over the load factor) instead of a dictionary node with a second copy of the key.
/// </summary>
/// <remarks>
/// <para>One writer (the table's lock) and any number of readers that never lock and never wait.
/// A slot holds null (never used) or a <see cref="RouteEntry"/>: one with routes, or an empty one
/// (the removal as the journal records it) as a tombstone that remembers which key left. The
/// writer changes a slot with one volatile write of a reference, and grows or cleans the map by building a new array and publishing it with one
/// volatile write; it never changes an array after replacing it. A reader takes the array once and
/// probes it with volatile reads, so it sees each slot either before or after a write.</para>
/// <para>Beside each slot, in the same cell, its key's hash is kept (written before the slot, so a
/// reader that sees the slot sees its hash): a probe passes slots of other keys without touching
/// their entries — an entry's prefix is a dependent load away (two for a many-route entry), and at
/// three quarters load a missing key probes about eight slots — and a rebuild places every entry
/// from the hashes alone, reading the old array in order. With a one-byte tag instead, the rebuilds
/// of a table filling up to a million routes were a third of the daemon's CPU (each entry's prefix a
/// cache miss to rehash); with the hashes in an array of their own, a probe of a big table missed
/// the cache twice, once per array.</para>
/// <para>Beside the hash, the writer marks a tombstone's cell (in the cell's padding), so its own
/// walks — a rebuild above all — tell entries from tombstones without loading either: at a million
/// routes, the type check per cell made a rebuild miss the cache once per entry. Readers ignore the
/// mark and check the slot's type, which is what they read anyway.</para>
/// <para>The hash is the map's own (<see cref="Hash"/>): four neighbouring prefixes share a home, so
/// a table that arrives in order (a peer sends its table sorted) touches a cache line per four
/// prefixes instead of one each; the probe for a new prefix was the table writer's costliest miss.</para>
/// <para>Within one array a key stays in the slot it first took: a removed key leaves its tombstone,
/// and only the same key takes that slot again. So an enumeration meets each key at most once even
/// while the writer removes and re-adds it, as a dictionary's enumeration would.</para>
/// <para>Each key also has a number, kept in its cell: small, dense, handed out in arrival order, the
/// same while the key has an entry or a tombstone, and given to another key only after a rebuild has
/// dropped the tombstone. An exporter keeps its per-prefix state in an array indexed by it
/// (BIRD numbers its nets the same way) instead of hashing every prefix into a map of its own.</para>
/// </remarks>
internal sealed class PrefixMap
{
    /// <summary>Grow or clean when used slots (entries and tombstones) pass this share of the array.</summary>
    private const double MaxLoad = 0.75;

    /// <summary>
    /// After a rebuild the entries fill this share: a full map grows by half, so rebuilds come after as
    /// many inserts again as half the entries. Each costs one pass over the old array and no entry's
    /// memory (the hash is kept), so the map's bytes per route decide the factor, not the copying.
    /// </summary>
    private const double LoadAfterRebuild = 0.5;

    private const int MinCapacity = 16;

    /// <summary>Per process, so which prefixes collide cannot be known from outside.</summary>
    private static readonly ulong Seed = (ulong)Random.Shared.NextInt64();

    /// <summary>A slot, its key's hash, its key's number and whether the slot is a tombstone (the writer's own mark), in 16 bytes.</summary>
    private struct Cell
    {
        private const int DeadBit = int.MinValue;

        public RouteEntry? Slot;
        public int Hash;
        // The key's number (bits 0–30) and the tombstone mark (bit 31): one word, so the cell stays 16 bytes.
        private int _tag;

        public bool Dead
        {
            readonly get => (_tag & DeadBit) != 0;
            set => _tag = value ? _tag | DeadBit : _tag & ~DeadBit;
        }

        public int Number
        {
            readonly get => _tag & ~DeadBit;
            set => _tag = (_tag & DeadBit) | value;
        }
    }

    /// <summary>
    /// An array of cells and the order its homes follow (<see cref="Home"/>), published together with
    /// one volatile write so a reader probes an array with the order it was built with.
    /// </summary>
    private sealed class Layout(Cell[] cells, uint order)
    {
        public readonly Cell[] Cells = cells;
        public readonly uint Order = order;
    }

    private Layout _layout = new(new Cell[MinCapacity], PrefixHash.Order(Seed, 0));
    private int _count;
    private int _tombstones;
    // Key numbers: the next never used, and those a rebuild freed (reused last freed first).
    private int _nextNumber;
    private int[] _freeNumbers = [];
    private int _freeCount;

    /// <summary>How many times the writer chose a new order (<see cref="Rebuild"/>).</summary>
    private int _reorders;

    /// <summary>Entries in the map (tombstones not counted).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Slots in the current array (for tests and the memory notes).</summary>
    public int Capacity => Volatile.Read(ref _layout).Cells.Length;

    public RouteEntry? Find(in Prefix prefix) => Find(prefix, Hash(prefix));

    /// <summary>The entry of <paramref name="prefix"/>, whose <see cref="Hash"/> the caller has already.</summary>
    public RouteEntry? Find(in Prefix prefix, int hash)
    {
        ReadIndex(prefix, hash, out _, out var slot);
        return slot is EmptyRouteEntry ? null : slot;
    }

    /// <summary>
    /// A reader's probe: the cell of <paramref name="prefix"/>'s entry or tombstone in the array it
    /// read (<paramref name="cells"/>), and what the cell held (<paramref name="slot"/>), or -1 and null.
    /// Volatile reads, so any thread may probe while the writer works.
    /// </summary>
    private int ReadIndex(in Prefix prefix, int hash, out Cell[] cells, out RouteEntry? slot)
    {
        var layout = Volatile.Read(ref _layout);
        cells = layout.Cells;
        var i = PrefixHash.Home(hash, cells.Length, layout.Order);
        while (true)
        {
            ref var cell = ref cells[i];
            slot = Volatile.Read(ref cell.Slot);
            if (slot is null)
                return -1;
            if (cell.Hash == hash && slot.IsFor(prefix))
                return i;
            if (++i == cells.Length)
                i = 0;
        }
    }

    /// <summary>
    /// The cell of <paramref name="prefix"/>'s entry or tombstone, else the empty cell that ends its
    /// probe, for <see cref="EntryAt"/> and then <see cref="Set(RouteEntry, in Prefix, int, int)"/> or
    /// <see cref="Remove(RouteEntry, in Prefix, int, int)"/>: the table's writer probes once per change,
    /// not once to look and again to write. Writer only; valid until the writer's next change.
    /// </summary>
    public int Locate(in Prefix prefix, int hash) => IndexOf(_layout, prefix, hash);

    /// <summary>The entry in a <see cref="Locate"/>d cell, or null when it is empty or a tombstone. Writer only.</summary>
    public RouteEntry? EntryAt(int cell)
    {
        ref var c = ref _layout.Cells[cell];
        return c.Dead ? null : c.Slot;
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
        var slot = cells[i].Slot;
        if (slot is not null && !cells[i].Dead)
        {
            Volatile.Write(ref cells[i].Slot, entry);
            return cells[i].Number;
        }
        if (slot is null && _count + _tombstones + 1 > cells.Length * MaxLoad)
        {
            // Growing a map that has had no removal since its last rebuild keeps the order: every
            // entry's new home is its old one scaled, so the rebuild writes the new array front to
            // back instead of at random (a 32 MB array at a million routes).
            Rebuild(SlotsFor(_count + 1), keepOrder: _tombstones == 0);
            cells = _layout.Cells;
            i = Locate(prefix, hash);
            slot = cells[i].Slot;
        }
        if (slot is not null)
            _tombstones--; // this key's own tombstone, taken back, with its number
        else
        {
            // Before the slot: a reader that sees the slot sees its hash and number.
            cells[i].Hash = hash;
            cells[i].Number = TakeNumber();
        }
        cells[i].Dead = false;
        Volatile.Write(ref cells[i].Slot, entry);
        Volatile.Write(ref _count, _count + 1);
        return cells[i].Number;
    }

    private int TakeNumber()
    {
        if (_freeCount > 0)
            return _freeNumbers[--_freeCount];
        if (_nextNumber == int.MaxValue)
            throw new InvalidOperationException("A table holds at most 2^31 - 1 prefixes.");
        return _nextNumber++;
    }

    private void FreeNumber(int number)
    {
        if (_freeCount == _freeNumbers.Length)
            Array.Resize(ref _freeNumbers, Math.Max(16, _freeNumbers.Length * 2));
        _freeNumbers[_freeCount++] = number;
    }

    /// <summary>Numbers handed out so far, at most: every key's number is below it (an exporter sizes its arrays by it).</summary>
    public int NumberLimit => Volatile.Read(ref _nextNumber);

    /// <summary>
    /// The number of <paramref name="prefix"/> (kept while it has an entry or a tombstone), or -1 when
    /// the map does not know it. Any thread; a number read while the writer works may be a moment old.
    /// </summary>
    public int NumberOf(in Prefix prefix) =>
        ReadIndex(prefix, Hash(prefix), out var cells, out _) is var i and >= 0 ? cells[i].Number : -1;

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
        var i = cell;
        if (cells[i].Slot is null || cells[i].Dead)
            return -1;
        var number = cells[i].Number;
        cells[i].Dead = true;
        Volatile.Write(ref cells[i].Slot, tombstone);
        Volatile.Write(ref _count, _count - 1);
        _tombstones++;
        // Tombstones beyond the entries are mostly a full table withdrawn: give the memory back, in a
        // new order (removals in slot order leave one range of the old order, which the old order
        // would pack into one run of the smaller array).
        if (_tombstones > _count && _tombstones > MinCapacity)
            Rebuild(SlotsFor(_count), keepOrder: false);
        return number;
    }

    /// <summary>
    /// Adds the entries as they are now to <paramref name="entries"/> and their numbers to
    /// <paramref name="numbers"/>, at the same positions; each prefix appears once. Any thread.
    /// </summary>
    public void CopyTo(List<RouteEntry> entries, List<int> numbers)
    {
        var cells = Volatile.Read(ref _layout).Cells;
        for (var i = 0; i < cells.Length; i++)
        {
            if (Volatile.Read(ref cells[i].Slot) is { } entry and not EmptyRouteEntry)
            {
                entries.Add(entry);
                numbers.Add(cells[i].Number);
            }
        }
    }

    /// <summary>The entries as they are now; each one is a consistent snapshot, each prefix appears once.</summary>
    public IEnumerable<RouteEntry> Entries()
    {
        var cells = Volatile.Read(ref _layout).Cells;
        for (var i = 0; i < cells.Length; i++)
        {
            // The slot's type, not the writer's mark: a reader may see a slot before its mark.
            if (Volatile.Read(ref cells[i].Slot) is { } entry and not EmptyRouteEntry)
                yield return entry;
        }
    }

    /// <summary>Cell of <paramref name="prefix"/>'s entry or tombstone, else the empty cell that ends its probe.</summary>
    private static int IndexOf(Layout layout, in Prefix prefix, int hash)
    {
        var cells = layout.Cells;
        var i = PrefixHash.Home(hash, cells.Length, layout.Order);
        while (true)
        {
            ref var cell = ref cells[i];
            var slot = cell.Slot;
            if (slot is null)
                return i;
            if (cell.Hash == hash && slot.IsFor(prefix))
                return i;
            if (++i == cells.Length)
                i = 0;
        }
    }

    private static int SlotsFor(int entries) =>
        Math.Max(MinCapacity, (int)Math.Min(Array.MaxLength, Math.Ceiling(entries / LoadAfterRebuild)));

    /// <summary>
    /// Copies the entries (not the tombstones) into an array of <paramref name="capacity"/> cells and
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
        var fresh = new Cell[capacity];
        var old = _layout;
        var order = keepOrder ? old.Order : PrefixHash.Order(Seed, ++_reorders);
        var cells = old.Cells;
        for (var j = 0; j < cells.Length; j++)
        {
            // The mark, not the slot's type: placing an entry never loads it.
            if (cells[j].Slot is not { } entry)
                continue;
            if (cells[j].Dead)
            {
                // The tombstone goes, and with it the key's claim on its number.
                FreeNumber(cells[j].Number);
                continue;
            }
            var hash = cells[j].Hash;
            var i = PrefixHash.Home(hash, capacity, order);
            while (fresh[i].Slot is not null)
            {
                if (++i == capacity)
                    i = 0;
            }
            fresh[i].Hash = hash;
            fresh[i].Number = cells[j].Number;
            fresh[i].Slot = entry;
        }
        _tombstones = 0;
        Volatile.Write(ref _layout, new Layout(fresh, order));
    }

    /// <summary>Longest run of used cells (entries and tombstones) in the current array: the worst probe (tests).</summary>
    internal int LongestRun()
    {
        var cells = Volatile.Read(ref _layout).Cells;
        int longest = 0, run = 0;
        // Twice round, so a run that wraps past the end is measured whole.
        for (var i = 0; i < 2 * cells.Length && run < cells.Length; i++)
        {
            run = cells[i % cells.Length].Slot is null ? 0 : run + 1;
            longest = Math.Max(longest, run);
        }
        return longest;
    }

    /// <summary>The map's hash of <paramref name="prefix"/> (<see cref="PrefixHash.Of"/> with this map's seed).</summary>
    internal static int Hash(in Prefix prefix) => PrefixHash.Of(prefix, Seed);
}
