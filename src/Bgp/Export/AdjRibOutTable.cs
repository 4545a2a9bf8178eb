using Calico.Bgp.Rib;

namespace Calico.Bgp.Speaker.Export;

/// <summary>
/// One family's open-addressed array of <typeparamref name="TSlot"/>: linear probing from the prefix's
/// home, keys compared inline, removal by shifting the run back (no tombstones). Grows at
/// <see cref="MaxLoad"/> to <see cref="LoadAfterRebuild"/>, shrinks when a table is mostly withdrawn.
/// The array is outside the GC heap (<see cref="NativeSlots{T}"/>).
/// </summary>
internal sealed class AdjRibOutTable<TSlot> where TSlot : unmanaged, IOutSlot<TSlot>
{
    /// <summary>Grow when the slots in use pass this share of the array.</summary>
    private const double MaxLoad = 0.75;

    /// <summary>After a rebuild the prefixes fill this share, so the next comes after as many inserts again.</summary>
    private const double LoadAfterRebuild = 0.5;

    /// <summary>Share of the array <see cref="Reserve"/>'s prefixes fill: room for an estimate a little short, and no emptier than a ×1.5 step leaves a map.</summary>
    private const double ReservedLoad = 0.7;

    private const int MinCapacity = 16;

    // Per process: which order the homes follow cannot be known from outside.
    private static readonly ulong OrderSeed = (ulong)Random.Shared.NextInt64();

    private NativeSlots<TSlot> _slots = new(MinCapacity);
    private int _count;
    // The order the homes follow (Home) and whether a removal came since the array was built.
    private uint _order = PrefixHash.Order(OrderSeed, 0);
    private int _reorders;
    private bool _removed;

    public int Count => _count;
    public int Capacity => _slots.Length;

    /// <summary>Arrays allocated since the table was made (tests and benchmarks).</summary>
    public int Rebuilds { get; private set; }

    /// <summary>Prefixes moved by rebuilds (tests and benchmarks: each is a slot written again).</summary>
    public long RebuildMoves { get; private set; }

    public ref TSlot this[int index] => ref _slots[index];

    /// <summary>The slot holding <paramref name="prefix"/>, or the complement (<c>~i</c>) of the free slot where the probe ended.</summary>
    public int Find(in Prefix prefix, int hash)
    {
        var slots = _slots;
        var i = PrefixHash.Home(hash, slots.Length, _order);
        while (true)
        {
            ref var s = ref slots[i];
            if (!s.IsUsed)
                return ~i;
            if (s.Holds(prefix))
                return i;
            if (++i == slots.Length)
                i = 0;
        }
    }

    /// <summary>
    /// Writes <paramref name="slot"/> at <paramref name="index"/> as <see cref="Find"/> returned it
    /// (negative: a new prefix, put in the free slot the probe ended at, or after a growth in a new one).
    /// </summary>
    public void Write(int index, int hash, in TSlot slot)
    {
        if (index < 0)
        {
            if (_count + 1 > _slots.Length * MaxLoad)
            {
                Rebuild(CapacityFor(_count + 1), keepOrder: !_removed);
                index = FreeSlotFor(hash);
            }
            else
                index = ~index;
            _count++;
        }
        _slots[index] = slot;
    }

    /// <summary>Empties the slot and shifts the rest of its run back over it, so every key stays reachable from its home.</summary>
    public void RemoveAt(int index)
    {
        var slots = _slots;
        var n = slots.Length;
        var hole = index;
        var j = index;
        while (true)
        {
            if (++j == n)
                j = 0;
            if (!slots[j].IsUsed)
                break;
            var home = PrefixHash.Home(AdjRibOut.Hash(slots[j].Prefix), n, _order);
            // The key at j may move into the hole unless its home lies cyclically in (hole, j].
            var stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
            if (stays)
                continue;
            slots[hole] = slots[j];
            hole = j;
        }
        slots[hole] = default;
        _count--;
        _removed = true;
        // A full table withdrawn: give the memory back, in a new order (see Rebuild).
        if (_count < n / 8 && n > MinCapacity)
            Rebuild(CapacityFor(_count), keepOrder: false);
    }

    /// <summary>Makes room for <paramref name="prefixes"/> in all without a growth on the way (a resync knows the table's size).</summary>
    public void Reserve(int prefixes)
    {
        if (prefixes > _slots.Length * MaxLoad)
            Rebuild(Math.Max(CapacityFor(_count + 1), (int)Math.Min(Array.MaxLength, Math.Ceiling(prefixes / ReservedLoad))), keepOrder: !_removed);
    }

    /// <summary>Longest run of used slots: the worst probe (tests and benchmarks).</summary>
    public int LongestRun()
    {
        var slots = _slots;
        int longest = 0, run = 0;
        // Twice round, so a run that wraps past the end is measured whole.
        for (var i = 0; i < 2 * slots.Length && run < slots.Length; i++)
        {
            run = slots[i % slots.Length].IsUsed ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }
        return longest;
    }

    private int FreeSlotFor(int hash)
    {
        var slots = _slots;
        var i = PrefixHash.Home(hash, slots.Length, _order);
        while (slots[i].IsUsed)
        {
            if (++i == slots.Length)
                i = 0;
        }
        return i;
    }

    private static int CapacityFor(int prefixes) =>
        Math.Max(MinCapacity, (int)Math.Min(Array.MaxLength, Math.Ceiling(prefixes / LoadAfterRebuild)));

    /// <param name="keepOrder">
    /// Keep the homes' order (a table that only grew since its last rebuild): the home is monotonic in
    /// the order at every length, so the old array is read and the new one written front to back, in
    /// the cache, instead of a random write per prefix into tens of MB (<c>FreeSlotFor</c> was ~10 %
    /// of P1's samples). After removals a new order: removals in slot order (a withdrawn table, a
    /// resync) leave one range of the old order, which the old order would pack into one run
    /// (bench/RESULTS-perf.md, fifth round).
    /// </param>
    private void Rebuild(int capacity, bool keepOrder)
    {
        Rebuilds++;
        RebuildMoves += _count;
        var old = _slots;
        if (!keepOrder)
            _order = PrefixHash.Order(OrderSeed, ++_reorders);
        _removed = false;
        _slots = new NativeSlots<TSlot>(capacity);
        foreach (ref readonly var s in old.AsSpan())
        {
            // The hash is not kept (the key is): computed again from the key.
            if (s.IsUsed)
                _slots[FreeSlotFor(AdjRibOut.Hash(s.Prefix))] = s;
        }
        old.Dispose();
    }
}
