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
/// An update group's Adj-RIB-Out: prefix → the paths sent, indexed by the table's prefix number
/// (<see cref="TableChange.Number"/>). One paged array per family (<see cref="PagedSlots{TSlot}"/>)
/// whose slots hold the prefix inline and, for a prefix with one path whose id of ours is 0 (every
/// prefix without ADD-PATH) or 1, the path as one small number (a <see cref="PathKind"/> in a
/// <see cref="RefIndex{T}"/>): 8 bytes per IPv4 slot, 20 per IPv6, and no reference the GC has to
/// follow. Other prefixes (ADD-PATH: several paths, higher ids) keep an array of paths in an overflow
/// list the slot numbers. One writer; callers hold the group's lock.
/// </summary>
/// <remarks>
/// A slot index is the prefix number twice, plus one for IPv6 (<see cref="IndexOf"/>). A slot may
/// still hold a prefix the table has forgotten, whose number the table has since given to another:
/// the caller finds it with <see cref="StaleSlot"/> and withdraws it first. The group never disposes
/// its map (its loop may still be in a pass when it stops); the pages' finalizer frees them.
/// </remarks>
internal sealed class AdjRibOut : IDisposable
{
    private readonly PagedSlots<V4Slot> _v4 = new();
    private readonly PagedSlots<V6Slot> _v6 = new();
    private readonly RefIndex<PathKind> _kinds = new();
    // Paths of overflow slots; free entries chain through _overflowFree.
    private PathOut[]?[] _overflow = [];
    private int[] _overflowFree = [];
    private int _overflowFreeHead = -1;
    private int _overflowNext;

    /// <summary>Prefixes with at least one path.</summary>
    public int Count => _v4.Count + _v6.Count;

    /// <summary>Slot indices to enumerate with <see cref="IsUsed"/> and <see cref="PathsAt"/>: every used one is below it.</summary>
    public int Capacity => 2 * Math.Max(_v4.Length, _v6.Length);

    /// <summary>Pages of slots held now (tests).</summary>
    internal int Pages => _v4.Pages + _v6.Pages;

    /// <summary>Prefixes kept in the overflow form (tests).</summary>
    internal int OverflowCount => _overflowNext - FreeOverflowEntries();

    /// <summary>Path kinds numbered now (tests: each is freed with its last slot).</summary>
    internal int Numbered => _kinds.Count;

    /// <summary>
    /// The highest overflow entry both families' slots can number (<see cref="V6Slot"/> has 21 bits for
    /// it): that many prefixes with several paths or a high id of ours, per group, at once.
    /// </summary>
    internal const int MaxOverflowEntry = (int)V6Slot.MaxPayload;

    /// <summary>The slot index of <paramref name="prefix"/> numbered <paramref name="number"/> in the group's table.</summary>
    public static int IndexOf(in Prefix prefix, int number)
    {
        if ((uint)number > int.MaxValue / 2)
            throw new ArgumentOutOfRangeException(nameof(number), number, "prefix numbers run from 0 to 2^30 - 1");
        return 2 * number + (prefix.IsV6 ? 1 : 0);
    }

    public bool IsUsed(int index) => (index & 1) == 0 ? _v4[index >> 1].IsUsed : _v6[index >> 1].IsUsed;

    /// <summary>The prefix of a used slot.</summary>
    public Prefix PrefixAt(int index) => (index & 1) == 0 ? _v4[index >> 1].Prefix : _v6[index >> 1].Prefix;

    /// <summary>Whether slot <paramref name="index"/> holds <paramref name="prefix"/>.</summary>
    public bool Holds(int index, in Prefix prefix) => (index & 1) == 0 ? _v4[index >> 1].Holds(prefix) : _v6[index >> 1].Holds(prefix);

    /// <summary>
    /// A slot of <paramref name="prefix"/>'s number that holds another prefix, one the table has
    /// forgotten since: slot <paramref name="index"/> holding another prefix, or the same number's slot
    /// of the other family in use; -1 when there is none. One page lookup when the other family is empty.
    /// </summary>
    public int StaleSlot(int index, in Prefix prefix)
    {
        var number = index >> 1;
        if ((index & 1) == 0)
        {
            var s = _v4[number];
            if (s.IsUsed && !s.Holds(prefix))
                return index;
            return _v6.Count > 0 && _v6[number].IsUsed ? index ^ 1 : -1;
        }
        var t = _v6[number];
        if (t.IsUsed && !t.Holds(prefix))
            return index;
        return _v4.Count > 0 && _v4[number].IsUsed ? index ^ 1 : -1;
    }

    /// <summary>The paths of slot <paramref name="index"/> (empty for a negative index or an empty slot); a single path is copied to <paramref name="one"/>, which the span then covers.</summary>
    public ReadOnlySpan<PathOut> PathsAt(int index, ref PathOut one)
    {
        if (index < 0)
            return [];
        return (index & 1) == 0 ? PathsIn(_v4[index >> 1], ref one) : PathsIn(_v6[index >> 1], ref one);
    }

    private ReadOnlySpan<PathOut> PathsIn<TSlot>(TSlot s, ref PathOut one) where TSlot : unmanaged, IOutSlot<TSlot>
    {
        if (!s.IsUsed)
            return [];
        if (s.IsOverflow)
            return _overflow[s.Payload];
        ref readonly var kind = ref _kinds[s.Payload];
        one = new PathOut(kind.Source, kind.SourcePathId, s.Id, kind.Attributes);
        return new ReadOnlySpan<PathOut>(ref one);
    }

    /// <summary>
    /// Sets the paths of <paramref name="prefix"/> in slot <paramref name="index"/>, which is empty or
    /// holds that prefix: none empties it, one with our id 0 or 1 is kept in the slot, others in an overflow entry.
    /// </summary>
    public void Set(int index, in Prefix prefix, ReadOnlySpan<PathOut> paths)
    {
        if (prefix.IsV6 != ((index & 1) != 0))
            throw new ArgumentException($"slot {index} is not of {prefix}'s family", nameof(index));
        if ((index & 1) == 0)
            Set(_v4, index >> 1, prefix, paths);
        else
            Set(_v6, index >> 1, prefix, paths);
    }

    private void Set<TSlot>(PagedSlots<TSlot> slots, int number, in Prefix prefix, ReadOnlySpan<PathOut> paths)
        where TSlot : unmanaged, IOutSlot<TSlot>
    {
        var old = slots[number];
        if (old.IsUsed && !old.Holds(prefix))
            throw new InvalidOperationException($"slot {number} holds {old.Prefix}, not {prefix}");
        if (paths.Length == 0)
        {
            if (!old.IsUsed)
                return;
            Release(old);
            slots.Put(number, default);
            return;
        }
        TSlot slot;
        if (paths.Length == 1 && paths[0].Id <= 1)
        {
            // Numbered before the old slot's number is released: the same kind stays numbered.
            var p = paths[0];
            var kind = _kinds.Acquire(new PathKind(p.Source, p.SourcePathId, p.Attributes));
            if (TSlot.TryInline(prefix, kind, p.Id, out slot))
            {
                Release(old);
                slots.Put(number, slot);
                return;
            }
            _kinds.Release(kind);
        }
        int entry;
        if (old.IsUsed && old.IsOverflow)
            entry = (int)old.Payload;
        else
        {
            // Taken before the old slot is given back: if none is left, the slot keeps what it had.
            entry = AllocateOverflow();
            Release(old);
        }
        var kept = _overflow[entry];
        if (kept is not null && kept.Length == paths.Length)
            paths.CopyTo(kept);
        else
            _overflow[entry] = paths.ToArray();
        slots.Put(number, TSlot.Overflow(prefix, (uint)entry));
    }

    /// <summary>Gives back what an old slot held: its numbers or its overflow entry.</summary>
    private void Release<TSlot>(TSlot old) where TSlot : unmanaged, IOutSlot<TSlot>
    {
        if (!old.IsUsed)
            return;
        if (!old.IsOverflow)
            _kinds.Release(old.Payload);
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
        if (_overflowNext > MaxOverflowEntry)
            throw new InvalidOperationException($"an update group's Adj-RIB-Out holds at most {MaxOverflowEntry + 1} prefixes with several paths or a path id of ours above 1");
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

    public void Dispose()
    {
        _v4.Dispose();
        _v6.Dispose();
    }
}
