using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Calico.Bgp.Rib;

/// <summary>
/// Interns <see cref="PathAttributes"/> (BIRD's attribute cache): identical sets become one object,
/// so a million routes that share attributes share a handful of objects and compare by reference.
/// Safe for concurrent use; sessions intern while parsing, off the table's writer. Lookups take no lock.
/// </summary>
/// <remarks>
/// The cache holds its sets weakly and forgets the ones nobody holds any more. Reference counts kept
/// by the table on Update/Withdraw would not do: besides the table, sets are held by Adj-RIB-Ins, by
/// filter results in flight, by update groups' Adj-RIB-Out and by the kernel protocol's learned
/// routes, none of which the table sees; only the GC knows when the last of them lets go.
/// Dead entries are dropped by <see cref="Sweep"/>, run at two moments: after every full (gen2)
/// collection, which is when sets that lived long enough to be promoted die, so the cache shrinks
/// back to its live count right after the GC that freed them instead of keeping their weak
/// references until some later insert; and by interning itself after as many new sets as the cache
/// holds, which catches the short-lived sets young collections free (its cost, linear in the cache,
/// is constant per interned set).
/// </remarks>
public sealed class AttributeCache
{
    /// <summary>New sets between automatic sweeps, at least.</summary>
    private const int MinSweepInterval = 4096;

    private readonly ConcurrentDictionary<Key, WeakReference<PathAttributes>> _sets = new(KeyComparer.Instance);
    // Kept beside the dictionary: ConcurrentDictionary.Count takes every bucket lock.
    private int _count;
    private int _addedSinceSweep;
    private int _sweeping;
    private long _sweeps;

    public AttributeCache() => Gen2Sweeper.Start(this);

    /// <summary>Sets held now, counting the ones no longer used until the next <see cref="Sweep"/>.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Sweeps run so far (on request, after inserts and after full collections).</summary>
    public long Sweeps => Interlocked.Read(ref _sweeps);

    public PathAttributes Intern(PathAttributes attributes)
    {
        var hash = attributes.GetHashCode();
        while (true)
        {
            if (_sets.TryGetValue(new Key(hash, attributes), out var found))
            {
                if (found.TryGetTarget(out var existing))
                    return existing;
                // Collected between the comparison and here: drop it and look again.
                Remove(new KeyValuePair<Key, WeakReference<PathAttributes>>(new Key(hash, found), found));
                continue;
            }
            var mine = new WeakReference<PathAttributes>(attributes);
            var stored = _sets.GetOrAdd(new Key(hash, mine), mine);
            if (ReferenceEquals(stored, mine))
            {
                Interlocked.Increment(ref _count);
                SweepNowAndThen();
                return attributes;
            }
            if (stored.TryGetTarget(out var other))
                return other;
        }
    }

    /// <summary>Forgets the sets no one holds any more; returns how many.</summary>
    public int Sweep()
    {
        Interlocked.Increment(ref _sweeps);
        var removed = 0;
        foreach (var pair in _sets)
        {
            if (!pair.Value.TryGetTarget(out _) && Remove(pair))
                removed++;
        }
        return removed;
    }

    private bool Remove(KeyValuePair<Key, WeakReference<PathAttributes>> pair)
    {
        if (!_sets.TryRemove(pair))
            return false;
        Interlocked.Decrement(ref _count);
        return true;
    }

    private void SweepNowAndThen()
    {
        if (Interlocked.Increment(ref _addedSinceSweep) < Math.Max(MinSweepInterval, Count))
            return;
        TrySweep();
    }

    /// <summary>Sweeps unless a sweep is running already (that one will do).</summary>
    private void TrySweep()
    {
        if (Interlocked.CompareExchange(ref _sweeping, 1, 0) != 0)
            return;
        try
        {
            Volatile.Write(ref _addedSinceSweep, 0);
            Sweep();
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    /// <summary>
    /// Sweeps the cache after each full collection: an object that nobody references and that
    /// re-registers itself for finalization is finalized once per collection of its generation,
    /// and once promoted that is gen2 (the runtime's own Gen2GcCallback does the same). It holds
    /// the cache by a weak GC handle, not a <see cref="WeakReference{T}"/>: that is finalizable
    /// itself, and unreachable together with this object it may be finalized first and read as
    /// dead. A cache no one uses is still collected, and then this stops.
    /// </summary>
    private sealed class Gen2Sweeper
    {
        private GCHandle _cache;

        private Gen2Sweeper(AttributeCache cache) => _cache = GCHandle.Alloc(cache, GCHandleType.Weak);

        public static void Start(AttributeCache cache) => _ = new Gen2Sweeper(cache);

        ~Gen2Sweeper()
        {
            if (_cache.Target is not AttributeCache cache)
            {
                _cache.Free();
                return;
            }
            // Not on the finalizer thread: a sweep walks the whole cache, and other finalizers wait.
            ThreadPool.UnsafeQueueUserWorkItem(static c => c.TrySweep(), cache, preferLocal: false);
            GC.ReRegisterForFinalize(this);
        }
    }

    /// <summary>
    /// A key is the set itself while looking up, or the weak reference the cache stores: equal keys
    /// are equal live sets, and a collected set equals nothing but its own key.
    /// </summary>
    private readonly struct Key(int hash, object holder)
    {
        public int Hash { get; } = hash;
        public object Holder { get; } = holder;

        public PathAttributes? Target =>
            Holder as PathAttributes ?? (((WeakReference<PathAttributes>)Holder).TryGetTarget(out var t) ? t : null);
    }

    private sealed class KeyComparer : IEqualityComparer<Key>
    {
        public static readonly KeyComparer Instance = new();

        public bool Equals(Key x, Key y)
        {
            if (x.Hash != y.Hash)
                return false;
            if (ReferenceEquals(x.Holder, y.Holder))
                return true;
            return x.Target is { } a && y.Target is { } b && a.Equals(b);
        }

        public int GetHashCode(Key key) => key.Hash;
    }
}
