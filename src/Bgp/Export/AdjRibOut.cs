using Calico.Bgp.Rib;

namespace Calico.Bgp.Speaker.Export;

/// <summary>One path a group has sent: the source protocol and its path id, our path id (ADD-PATH), the attributes sent.</summary>
/// <remarks>
/// Not the table's route: a slot that kept it pointed at a young object from an array in the large
/// object heap, so every young collection scanned the array's cards (bench/RESULTS-perf.md, seventh round).
/// </remarks>
internal readonly record struct PathOut(Protocol Source, uint SourcePathId, uint Id, PathAttributes Attributes)
{
    public PathOut(Route route, uint id, PathAttributes attributes)
        : this(route.Protocol, route.PathId, id, attributes)
    {
    }
}

/// <summary>
/// An update group's Adj-RIB-Out: prefix → the paths sent. One open-addressed array per family
/// (<see cref="AdjRibOutTable{TSlot}"/>) whose slots hold the prefix inline and, for a prefix with
/// one path whose id of ours is 0 (every prefix without ADD-PATH) or 1, the path as two small numbers
/// (<see cref="RefIndex{T}"/>): 16 bytes per IPv4 slot, 24 per IPv6, and no reference the GC has to
/// follow or whose cards it has to scan. Other prefixes (ADD-PATH: several paths, higher ids) keep an
/// array of paths in an overflow list the slot numbers. One writer; callers hold the group's lock.
/// </summary>
/// <remarks>
/// Slot indices run over the IPv4 array, then the IPv6 one; a negative index from <see cref="Find"/>
/// is the complement of the free slot where the probe ended, which <see cref="Set"/> inserts into.
/// </remarks>
internal sealed class AdjRibOut
{
    // Per process, so which prefixes collide cannot be chosen from outside (peers pick the prefixes).
    private static readonly ulong Seed = (ulong)Random.Shared.NextInt64() | 1;

    private readonly AdjRibOutTable<V4Slot> _v4 = new();
    private readonly AdjRibOutTable<V6Slot> _v6 = new();
    private readonly RefIndex<Protocol> _sources = new();
    private readonly RefIndex<PathAttributes> _attributes = new();
    // Paths of overflow slots; free entries chain through _overflowFree.
    private PathOut[]?[] _overflow = [];
    private int[] _overflowFree = [];
    private int _overflowFreeHead = -1;
    private int _overflowNext;

    /// <summary>The map's hash of <paramref name="prefix"/> (<see cref="PrefixHash.Of"/> with this map's seed): computed once per change and used for both the pass's de-duplication and the lookup.</summary>
    public static int Hash(in Prefix prefix) => PrefixHash.Of(prefix, Seed);

    /// <summary>Prefixes with at least one path.</summary>
    public int Count => _v4.Count + _v6.Count;

    /// <summary>Slots in both arrays (for enumeration with <see cref="IsUsed"/> and <see cref="PathsAt"/>).</summary>
    public int Capacity => _v4.Capacity + _v6.Capacity;

    /// <summary>Prefixes kept in the overflow form (tests).</summary>
    internal int OverflowCount => _overflowNext - FreeOverflowEntries();

    /// <summary>Sources and attribute sets numbered now (tests: each is freed with its last slot).</summary>
    internal (int Sources, int Attributes) Numbered => (_sources.Count, _attributes.Count);

    public int Find(in Prefix prefix, int hash)
    {
        if (!prefix.IsV6)
            return _v4.Find(prefix, hash);
        var i = _v6.Find(prefix, hash);
        var offset = _v4.Capacity;
        return i >= 0 ? offset + i : ~(offset + ~i);
    }

    public bool IsUsed(int index) => index < _v4.Capacity ? _v4[index].IsUsed : _v6[index - _v4.Capacity].IsUsed;

    /// <summary>The prefix of a used slot.</summary>
    public Prefix PrefixAt(int index) => index < _v4.Capacity ? _v4[index].Prefix : _v6[index - _v4.Capacity].Prefix;

    /// <summary>The paths of slot <paramref name="index"/> (empty for a negative index, a miss); a single path is copied to <paramref name="one"/>, which the span then covers.</summary>
    public ReadOnlySpan<PathOut> PathsAt(int index, ref PathOut one)
    {
        if (index < 0)
            return [];
        return index < _v4.Capacity ? PathsIn(in _v4[index], ref one) : PathsIn(in _v6[index - _v4.Capacity], ref one);
    }

    private ReadOnlySpan<PathOut> PathsIn<TSlot>(in TSlot s, ref PathOut one) where TSlot : unmanaged, IOutSlot<TSlot>
    {
        if (!s.IsUsed)
            return [];
        if (s.IsOverflow)
            return _overflow[s.Payload];
        one = new PathOut(_sources[s.Source], s.SourcePathId, s.Id, _attributes[s.Payload]);
        return new ReadOnlySpan<PathOut>(ref one);
    }

    /// <summary>
    /// Sets the paths of <paramref name="prefix"/>, whose slot is <paramref name="index"/> as
    /// <see cref="Find"/> returned it (negative when it has none; nothing may change the map in
    /// between): none removes it, one with our id 0 or 1 is kept in the slot, others in an overflow entry.
    /// </summary>
    public void Set(int index, in Prefix prefix, int hash, ReadOnlySpan<PathOut> paths)
    {
        if (!prefix.IsV6)
        {
            Set(_v4, index, prefix, hash, paths);
            return;
        }
        var offset = _v4.Capacity;
        Set(_v6, index >= 0 ? index - offset : ~(~index - offset), prefix, hash, paths);
    }

    private void Set<TSlot>(AdjRibOutTable<TSlot> table, int index, in Prefix prefix, int hash, ReadOnlySpan<PathOut> paths)
        where TSlot : unmanaged, IOutSlot<TSlot>
    {
        var old = index >= 0 ? table[index] : default;
        if (paths.Length == 0)
        {
            if (index < 0)
                return;
            Release(old);
            table.RemoveAt(index);
            return;
        }
        TSlot slot;
        if (paths.Length == 1 && paths[0].Id <= 1)
        {
            // Numbered before the old slot's numbers are released: the same source or set stays numbered.
            var p = paths[0];
            var source = _sources.Acquire(p.Source);
            var attributes = _attributes.Acquire(p.Attributes);
            if (TSlot.TryInline(prefix, source, attributes, p.SourcePathId, p.Id, out slot))
            {
                Release(old);
                table.Write(index, hash, slot);
                return;
            }
            _sources.Release(source);
            _attributes.Release(attributes);
        }
        int entry;
        if (old.IsUsed && old.IsOverflow)
            entry = (int)old.Payload;
        else
        {
            Release(old);
            entry = AllocateOverflow();
        }
        var kept = _overflow[entry];
        if (kept is not null && kept.Length == paths.Length)
            paths.CopyTo(kept);
        else
            _overflow[entry] = paths.ToArray();
        table.Write(index, hash, TSlot.Overflow(prefix, (uint)entry));
    }

    /// <summary>Gives back what an old slot held: its numbers or its overflow entry.</summary>
    private void Release<TSlot>(in TSlot old) where TSlot : unmanaged, IOutSlot<TSlot>
    {
        if (!old.IsUsed)
            return;
        if (!old.IsOverflow)
        {
            _sources.Release(old.Source);
            _attributes.Release(old.Payload);
        }
        else
        {
            var entry = (int)old.Payload;
            _overflow[entry] = null;
            _overflowFree[entry] = _overflowFreeHead;
            _overflowFreeHead = entry;
        }
    }

    private int AllocateOverflow()
    {
        if (_overflowFreeHead >= 0)
        {
            var e = _overflowFreeHead;
            _overflowFreeHead = _overflowFree[e];
            return e;
        }
        if (_overflowNext == _overflow.Length)
        {
            var size = Math.Max(16, _overflow.Length * 2);
            Array.Resize(ref _overflow, size);
            Array.Resize(ref _overflowFree, size);
        }
        return _overflowNext++;
    }

    private int FreeOverflowEntries()
    {
        var n = 0;
        for (var e = _overflowFreeHead; e >= 0; e = _overflowFree[e])
            n++;
        return n;
    }

    /// <summary>
    /// Makes room for the prefixes of each family in all without a growth on the way: a resync knows
    /// the table's size, where growing by ×1.5 steps to a million prefixes moves each one twice and
    /// allocates an array per step.
    /// </summary>
    public void Reserve(int v4Prefixes, int v6Prefixes)
    {
        _v4.Reserve(v4Prefixes);
        _v6.Reserve(v6Prefixes);
    }

    /// <summary>Arrays allocated since the map was made (tests and benchmarks).</summary>
    internal int Rebuilds => _v4.Rebuilds + _v6.Rebuilds;

    /// <summary>Prefixes moved by rebuilds since the map was made (tests and benchmarks: each is a slot written again).</summary>
    internal long RebuildMoves => _v4.RebuildMoves + _v6.RebuildMoves;

    /// <summary>Longest run of used slots in either array: the worst probe (tests and benchmarks).</summary>
    internal int LongestRun() => Math.Max(_v4.LongestRun(), _v6.LongestRun());
}
