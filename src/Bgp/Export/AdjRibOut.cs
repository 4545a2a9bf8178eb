using Calico.Bgp.Rib;

namespace Calico.Bgp.Speaker.Export;

/// <summary>One path a group has sent: the table route it came from, our path id (ADD-PATH), the attributes sent.</summary>
/// <remarks>The route gives the prefix, the source protocol and the source's path id, so none is stored again.</remarks>
internal readonly record struct PathOut(Route Route, uint Id, PathAttributes Attributes)
{
    public Protocol Source => Route.Protocol;
    public uint SourcePathId => Route.PathId;
}

/// <summary>
/// An update group's Adj-RIB-Out: prefix → the paths sent. Open addressing with linear probing over
/// one array of 24-byte slots; a prefix with one path (every prefix without ADD-PATH) keeps it in its
/// slot, so the common case costs no object per prefix (a dictionary entry plus a one-element array
/// cost 88 bytes and an allocation). The key is not stored either: the slot's route carries it, and
/// the slot keeps the key's whole hash so a probe compares other keys without loading their routes.
/// Removal shifts the run back (no tombstones). One writer; callers hold the group's lock.
/// </summary>
internal sealed class AdjRibOut
{
    /// <summary>Grow when the slots in use pass this share of the array.</summary>
    private const double MaxLoad = 0.75;

    /// <summary>After a rebuild the prefixes fill this share, so the next comes after as many inserts again.</summary>
    private const double LoadAfterRebuild = 0.5;

    private const int MinCapacity = 16;

    // Per process, so which prefixes collide cannot be chosen from outside (peers pick the prefixes).
    private static readonly ulong Seed = (ulong)Random.Shared.NextInt64() | 1;

    /// <summary>
    /// <see cref="Paths"/>: the <see cref="Route"/> of the one path, a <see cref="PathOut"/>[] of two or
    /// more (ADD-PATH), or null for a free slot. <see cref="Attributes"/> and <see cref="Id"/> are the
    /// one path's.
    /// </summary>
    internal struct Slot
    {
        public object? Paths;
        public PathAttributes? Attributes;
        public uint Id;
        public int Hash;
    }

    private Slot[] _slots = new Slot[MinCapacity];
    private int _count;

    /// <summary>Prefixes with at least one path.</summary>
    public int Count => _count;

    /// <summary>Share of the array <see cref="Reserve"/>'s prefixes fill: room for an estimate a little short, and no emptier than a ×1.5 step leaves a map.</summary>
    private const double ReservedLoad = 0.7;

    /// <summary>Slots in the array (for enumeration with <see cref="IsUsed"/> and <see cref="PathsAt"/>).</summary>
    public int Capacity => _slots.Length;

    /// <summary>The map's hash of <paramref name="prefix"/> (<see cref="PrefixHash.Of"/> with this map's seed): computed once per change and used for both the pass's de-duplication and the lookup.</summary>
    public static int Hash(in Prefix prefix) => PrefixHash.Of(prefix, Seed);

    /// <summary>
    /// The slot holding <paramref name="prefix"/>, or, when it has none, the complement (<c>~i</c>,
    /// negative) of the free slot where the probe ended: <see cref="Set"/> inserts there without
    /// probing again (a miss used to be walked twice, once here and once for a free slot).
    /// </summary>
    public int Find(in Prefix prefix, int hash)
    {
        var slots = _slots;
        var i = Home(hash, slots.Length);
        while (true)
        {
            ref var s = ref slots[i];
            if (s.Paths is null)
                return ~i;
            if (s.Hash == hash && KeyOf(s.Paths).Equals(prefix))
                return i;
            if (++i == slots.Length)
                i = 0;
        }
    }

    public bool IsUsed(int index) => _slots[index].Paths is not null;

    /// <summary>The prefix of a used slot.</summary>
    public Prefix PrefixAt(int index) => KeyOf(_slots[index].Paths!);

    /// <summary>The paths of slot <paramref name="index"/> (empty for a negative index, a miss); a single path is copied to <paramref name="one"/>, which the span then covers.</summary>
    public ReadOnlySpan<PathOut> PathsAt(int index, ref PathOut one)
    {
        if (index < 0)
            return [];
        ref var s = ref _slots[index];
        switch (s.Paths)
        {
            case Route r:
                one = new PathOut(r, s.Id, s.Attributes!);
                return new ReadOnlySpan<PathOut>(ref one);
            case PathOut[] many:
                return many;
            default:
                return [];
        }
    }

    /// <summary>
    /// Sets the paths of <paramref name="prefix"/>, whose slot is <paramref name="index"/> as
    /// <see cref="Find"/> returned it (negative when it has none; nothing may change the map in
    /// between): none removes it, one is kept in the slot, more are copied to an array.
    /// </summary>
    public void Set(int index, in Prefix prefix, int hash, ReadOnlySpan<PathOut> paths)
    {
        if (paths.Length == 0)
        {
            if (index >= 0)
                RemoveAt(index);
            return;
        }
        if (index < 0)
        {
            if (_count + 1 > _slots.Length * MaxLoad)
            {
                Rebuild(CapacityFor(_count + 1));
                index = FreeSlotFor(hash);
            }
            else
                index = ~index;
            _count++;
        }
        ref var s = ref _slots[index];
        s.Hash = hash;
        if (paths.Length == 1)
        {
            s.Paths = paths[0].Route;
            s.Attributes = paths[0].Attributes;
            s.Id = paths[0].Id;
        }
        else
        {
            s.Paths = paths.ToArray();
            s.Attributes = null;
            s.Id = 0;
        }
    }

    /// <summary>Empties the slot and shifts the rest of its run back over it, so every key stays reachable from its home.</summary>
    private void RemoveAt(int index)
    {
        var slots = _slots;
        var n = slots.Length;
        var hole = index;
        var j = index;
        while (true)
        {
            if (++j == n)
                j = 0;
            if (slots[j].Paths is null)
                break;
            var home = Home(slots[j].Hash, n);
            // The key at j may move into the hole unless its home lies cyclically in (hole, j].
            var stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
            if (stays)
                continue;
            slots[hole] = slots[j];
            hole = j;
        }
        slots[hole] = default;
        _count--;
        // A full table withdrawn: give the memory back.
        if (_count < n / 8 && n > MinCapacity)
            Rebuild(CapacityFor(_count));
    }

    private int FreeSlotFor(int hash)
    {
        var slots = _slots;
        var i = Home(hash, slots.Length);
        while (slots[i].Paths is not null)
        {
            if (++i == slots.Length)
                i = 0;
        }
        return i;
    }

    private static int CapacityFor(int prefixes) =>
        Math.Max(MinCapacity, (int)Math.Min(Array.MaxLength, Math.Ceiling(prefixes / LoadAfterRebuild)));

    /// <summary>
    /// Makes room for <paramref name="prefixes"/> in all without a growth on the way: a resync knows
    /// the table's size, where growing by ×1.5 steps to a million prefixes moves each one twice and
    /// allocates an array per step.
    /// </summary>
    public void Reserve(int prefixes)
    {
        if (prefixes > _slots.Length * MaxLoad)
            Rebuild(Math.Max(CapacityFor(_count + 1), (int)Math.Min(Array.MaxLength, Math.Ceiling(prefixes / ReservedLoad))));
    }

    /// <summary>Arrays allocated since the map was made (tests and benchmarks).</summary>
    internal int Rebuilds { get; private set; }

    /// <summary>Prefixes moved by rebuilds since the map was made (tests and benchmarks: each is a slot written again).</summary>
    internal long RebuildMoves { get; private set; }

    private void Rebuild(int capacity)
    {
        Rebuilds++;
        RebuildMoves += _count;
        var old = _slots;
        _slots = new Slot[capacity];
        foreach (ref readonly var s in old.AsSpan())
        {
            if (s.Paths is not null)
                _slots[FreeSlotFor(s.Hash)] = s;
        }
    }

    /// <summary>Longest run of used slots in the current array: the worst probe (tests and benchmarks).</summary>
    internal int LongestRun()
    {
        var slots = _slots;
        int longest = 0, run = 0;
        // Twice round, so a run that wraps past the end is measured whole.
        for (var i = 0; i < 2 * slots.Length && run < slots.Length; i++)
        {
            run = slots[i % slots.Length].Paths is null ? 0 : run + 1;
            longest = Math.Max(longest, run);
        }
        return longest;
    }

    private static Prefix KeyOf(object paths) => paths is Route r ? r.Prefix : ((PathOut[])paths)[0].Route.Prefix;

    private static int Home(int hash, int length) => PrefixHash.Home(hash, length);
}
