namespace Calico.Bgp.Rib;

/// <summary>
/// The table's prefix → <see cref="RouteEntry"/> map: open addressing with linear probing over one
/// array of references, keyed by each entry's own prefix, so a prefix costs one slot (8 bytes over the
/// load factor) instead of a dictionary node with a second copy of the key, plus the key's hash.
/// </summary>
/// <remarks>
/// <para>One writer (the table's lock) and any number of readers that never lock and never wait.
/// A slot holds null (never used), a <see cref="RouteEntry"/>, or a boxed <see cref="Prefix"/>: a
/// tombstone that remembers which key left. The writer changes a slot with one volatile write of a
/// reference, and grows or cleans the map by building a new array and publishing it with one
/// volatile write; it never changes an array after replacing it. A reader takes the array once and
/// probes it with volatile reads, so it sees each slot either before or after a write.</para>
/// <para>Beside each slot its key's hash is kept (written before the slot, so a reader that sees the
/// slot sees its hash): a probe passes slots of other keys without touching their entries — an
/// entry's prefix is three dependent loads away (entry, route, prefix), and at three quarters load a
/// missing key probes about eight slots — and a rebuild places every entry from the hashes alone,
/// reading the old arrays in order. With a one-byte tag instead, the rebuilds of a table filling up
/// to a million routes were a third of the daemon's CPU (each entry's prefix a cache miss to rehash).</para>
/// <para>Within one array a key stays in the slot it first took: a removed key leaves its tombstone,
/// and only the same key takes that slot again. So an enumeration meets each key at most once even
/// while the writer removes and re-adds it, as a dictionary's enumeration would.</para>
/// </remarks>
internal sealed class PrefixMap
{
    /// <summary>Grow or clean when used slots (entries and tombstones) pass this share of the array.</summary>
    private const double MaxLoad = 0.75;

    /// <summary>After a cleaning rebuild (mostly tombstones gone) the entries fill this share.</summary>
    private const double LoadAfterRebuild = 0.56;

    private const int MinCapacity = 16;

    /// <summary>The slots and their keys' hashes, published together.</summary>
    private sealed class Store(int capacity)
    {
        public readonly object?[] Slots = new object?[capacity];
        public readonly int[] Hashes = new int[capacity];
    }

    private Store _store = new(MinCapacity);
    private int _count;
    private int _tombstones;

    /// <summary>Entries in the map (tombstones not counted).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Slots in the current array (for tests and the memory notes).</summary>
    public int Capacity => Volatile.Read(ref _store).Slots.Length;

    public RouteEntry? Find(in Prefix prefix)
    {
        var store = Volatile.Read(ref _store);
        var slots = store.Slots;
        var hashes = store.Hashes;
        var hash = prefix.GetHashCode();
        var i = Home(hash, slots.Length);
        while (true)
        {
            var slot = Volatile.Read(ref slots[i]);
            if (slot is null)
                return null;
            if (hashes[i] == hash)
            {
                if (slot is RouteEntry entry)
                {
                    if (entry.IsFor(prefix))
                        return entry;
                }
                else if (((Prefix)slot).Equals(prefix))
                    return null;
            }
            if (++i == slots.Length)
                i = 0;
        }
    }

    /// <summary>Adds or replaces the entry for its prefix. Writer only.</summary>
    public void Set(RouteEntry entry)
    {
        var prefix = entry.Prefix;
        var hash = prefix.GetHashCode();
        var store = _store;
        var i = IndexOf(store, prefix, hash);
        var slot = store.Slots[i];
        if (slot is RouteEntry)
        {
            Volatile.Write(ref store.Slots[i], entry);
            return;
        }
        if (slot is null && _count + _tombstones + 1 > store.Slots.Length * MaxLoad)
        {
            // Mostly entries: the table is filling, so double it (rebuilds then copy each entry about
            // once in all); mostly tombstones: clean it at the same size.
            Rebuild(_tombstones < _count / 4 ? (int)Math.Min(Array.MaxLength, 2L * store.Slots.Length) : SlotsFor(_count + 1));
            store = _store;
            i = IndexOf(store, prefix, hash);
            slot = store.Slots[i];
        }
        if (slot is not null)
            _tombstones--; // this key's own tombstone, taken back
        else
            store.Hashes[i] = hash; // before the slot: a reader that sees the slot sees its hash
        Volatile.Write(ref store.Slots[i], entry);
        Volatile.Write(ref _count, _count + 1);
    }

    /// <summary>
    /// Removes the entry for <paramref name="tombstone"/>'s prefix, leaving the box as its tombstone;
    /// false when there was none. Writer only.
    /// </summary>
    public bool Remove(object tombstone)
    {
        var prefix = (Prefix)tombstone;
        var store = _store;
        var i = IndexOf(store, prefix, prefix.GetHashCode());
        if (store.Slots[i] is not RouteEntry)
            return false;
        Volatile.Write(ref store.Slots[i], tombstone);
        Volatile.Write(ref _count, _count - 1);
        _tombstones++;
        // Tombstones beyond the entries are mostly a full table withdrawn: give the memory back.
        if (_tombstones > _count && _tombstones > MinCapacity)
            Rebuild(SlotsFor(_count));
        return true;
    }

    /// <summary>The entries as they are now; each one is a consistent snapshot, each prefix appears once.</summary>
    public IEnumerable<RouteEntry> Entries()
    {
        var slots = Volatile.Read(ref _store).Slots;
        for (var i = 0; i < slots.Length; i++)
        {
            if (Volatile.Read(ref slots[i]) is RouteEntry entry)
                yield return entry;
        }
    }

    /// <summary>Slot of <paramref name="prefix"/>'s entry or tombstone, else the empty slot that ends its probe.</summary>
    private static int IndexOf(Store store, in Prefix prefix, int hash)
    {
        var slots = store.Slots;
        var hashes = store.Hashes;
        var i = Home(hash, slots.Length);
        while (true)
        {
            var slot = slots[i];
            if (slot is null)
                return i;
            if (hashes[i] == hash && (slot is RouteEntry entry ? entry.IsFor(prefix) : ((Prefix)slot).Equals(prefix)))
                return i;
            if (++i == slots.Length)
                i = 0;
        }
    }

    private static int SlotsFor(int entries) =>
        Math.Max(MinCapacity, (int)Math.Min(Array.MaxLength, Math.Ceiling(entries / LoadAfterRebuild)));

    /// <summary>
    /// Copies the entries (not the tombstones) into arrays of <paramref name="capacity"/> slots and
    /// publishes them. Readers still probing the old arrays finish there: they are never written again.
    /// The keys are distinct, so each goes to the first empty slot from its home without comparing
    /// keys, and its home comes from the kept hash without touching the entry.
    /// </summary>
    private void Rebuild(int capacity)
    {
        var fresh = new Store(capacity);
        var old = _store;
        var oldSlots = old.Slots;
        var oldHashes = old.Hashes;
        var slots = fresh.Slots;
        var hashes = fresh.Hashes;
        for (var j = 0; j < oldSlots.Length; j++)
        {
            if (oldSlots[j] is not RouteEntry entry)
                continue;
            var hash = oldHashes[j];
            var i = Home(hash, capacity);
            while (slots[i] is not null)
            {
                if (++i == capacity)
                    i = 0;
            }
            hashes[i] = hash;
            slots[i] = entry;
        }
        _tombstones = 0;
        Volatile.Write(ref _store, fresh);
    }

    /// <summary>Longest run of used slots (entries and tombstones) in the current array: the worst probe (tests).</summary>
    internal int LongestRun()
    {
        var slots = Volatile.Read(ref _store).Slots;
        int longest = 0, run = 0;
        // Twice round, so a run that wraps past the end is measured whole.
        for (var i = 0; i < 2 * slots.Length && run < slots.Length; i++)
        {
            run = slots[i % slots.Length] is null ? 0 : run + 1;
            longest = Math.Max(longest, run);
        }
        return longest;
    }

    /// <summary>
    /// The first slot to probe: a hash scaled to the array (Lemire's multiply-shift), so the array can
    /// be any length and grow by less than doubling.
    /// </summary>
    /// <remarks>
    /// The hash is mixed with the array's length, so each array has a hash of its own. With one hash
    /// for all, the slot is monotonic in it: removing entries in slot order (a withdrawn table, walked
    /// by <see cref="Entries"/>) leaves those of one hash range, which a rebuild then packs into one
    /// run at the same end of the smaller array, and every probe walks it — 200k routes of a session
    /// that went down took 7.7 CPU s to remove instead of a few ms.
    /// </remarks>
    private static int Home(int hash, int length) =>
        (int)((ulong)(uint)HashCode.Combine(hash, length) * (ulong)length >> 32);
}
