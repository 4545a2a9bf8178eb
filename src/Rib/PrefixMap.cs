namespace Calico.Bgp.Rib;

/// <summary>
/// The table's prefix → <see cref="RouteEntry"/> map: open addressing with linear probing over one
/// array of references, keyed by each entry's own prefix, so a prefix costs one slot (8 bytes over the
/// load factor) instead of a dictionary node with a second copy of the key.
/// </summary>
/// <remarks>
/// <para>One writer (the table's lock) and any number of readers that never lock and never wait.
/// A slot holds null (never used), a <see cref="RouteEntry"/>, or a boxed <see cref="Prefix"/>: a
/// tombstone that remembers which key left. The writer changes a slot with one volatile write of a
/// reference, and grows or cleans the map by building a new array and publishing it with one
/// volatile write; it never changes an array after replacing it. A reader takes the array once and
/// probes it with volatile reads, so it sees each slot either before or after a write.</para>
/// <para>Within one array a key stays in the slot it first took: a removed key leaves its tombstone,
/// and only the same key takes that slot again. So an enumeration meets each key at most once even
/// while the writer removes and re-adds it, as a dictionary's enumeration would.</para>
/// </remarks>
internal sealed class PrefixMap
{
    /// <summary>Grow or clean when used slots (entries and tombstones) pass this share of the array.</summary>
    private const double MaxLoad = 0.75;

    /// <summary>After a rebuild the entries fill this share, so rebuilds come after as many inserts again as there are entries.</summary>
    private const double LoadAfterRebuild = 0.5;

    private const int MinCapacity = 16;

    private object?[] _slots = new object?[MinCapacity];
    private int _count;
    private int _tombstones;

    /// <summary>Entries in the map (tombstones not counted).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Slots in the current array (for tests and the memory notes).</summary>
    public int Capacity => Volatile.Read(ref _slots).Length;

    public RouteEntry? Find(in Prefix prefix)
    {
        var slots = Volatile.Read(ref _slots);
        var i = Home(prefix, slots.Length);
        while (true)
        {
            var slot = Volatile.Read(ref slots[i]);
            if (slot is null)
                return null;
            if (slot is RouteEntry entry)
            {
                if (entry.IsFor(prefix))
                    return entry;
            }
            else if (((Prefix)slot).Equals(prefix))
                return null;
            if (++i == slots.Length)
                i = 0;
        }
    }

    /// <summary>Adds or replaces the entry for its prefix. Writer only.</summary>
    public void Set(RouteEntry entry)
    {
        var prefix = entry.Prefix;
        var slots = _slots;
        var i = IndexOf(slots, prefix);
        var slot = slots[i];
        if (slot is RouteEntry)
        {
            Volatile.Write(ref slots[i], entry);
            return;
        }
        if (slot is null && _count + _tombstones + 1 > slots.Length * MaxLoad)
        {
            Rebuild(_count + 1);
            slots = _slots;
            i = IndexOf(slots, prefix);
            slot = slots[i];
        }
        if (slot is not null)
            _tombstones--; // this key's own tombstone, taken back
        Volatile.Write(ref slots[i], entry);
        Volatile.Write(ref _count, _count + 1);
    }

    /// <summary>
    /// Removes the entry for <paramref name="tombstone"/>'s prefix, leaving the box as its tombstone;
    /// false when there was none. Writer only.
    /// </summary>
    public bool Remove(object tombstone)
    {
        var prefix = (Prefix)tombstone;
        var slots = _slots;
        var i = IndexOf(slots, prefix);
        if (slots[i] is not RouteEntry)
            return false;
        Volatile.Write(ref slots[i], tombstone);
        Volatile.Write(ref _count, _count - 1);
        _tombstones++;
        // Tombstones beyond the entries are mostly a full table withdrawn: give the memory back.
        if (_tombstones > _count && _tombstones > MinCapacity)
            Rebuild(_count);
        return true;
    }

    /// <summary>The entries as they are now; each one is a consistent snapshot, each prefix appears once.</summary>
    public IEnumerable<RouteEntry> Entries()
    {
        var slots = Volatile.Read(ref _slots);
        for (var i = 0; i < slots.Length; i++)
        {
            if (Volatile.Read(ref slots[i]) is RouteEntry entry)
                yield return entry;
        }
    }

    /// <summary>Slot of <paramref name="prefix"/>'s entry or tombstone, else the empty slot that ends its probe.</summary>
    private static int IndexOf(object?[] slots, in Prefix prefix)
    {
        var i = Home(prefix, slots.Length);
        while (true)
        {
            var slot = slots[i];
            if (slot is null)
                return i;
            if (slot is RouteEntry entry ? entry.IsFor(prefix) : ((Prefix)slot).Equals(prefix))
                return i;
            if (++i == slots.Length)
                i = 0;
        }
    }

    /// <summary>
    /// Copies the entries (not the tombstones) into an array sized for <paramref name="entries"/> and
    /// publishes it. Readers still probing the old array finish there: it is never written again.
    /// </summary>
    private void Rebuild(int entries)
    {
        var capacity = Math.Max(MinCapacity, (int)Math.Min(Array.MaxLength, Math.Ceiling(entries / LoadAfterRebuild)));
        var fresh = new object?[capacity];
        foreach (var slot in _slots)
        {
            if (slot is RouteEntry entry)
                fresh[IndexOf(fresh, entry.Prefix)] = entry;
        }
        _tombstones = 0;
        Volatile.Write(ref _slots, fresh);
    }

    /// <summary>Longest run of used slots (entries and tombstones) in the current array: the worst probe (tests).</summary>
    internal int LongestRun()
    {
        var slots = Volatile.Read(ref _slots);
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
    private static int Home(in Prefix prefix, int length) =>
        (int)((ulong)(uint)HashCode.Combine(prefix.GetHashCode(), length) * (ulong)length >> 32);
}
