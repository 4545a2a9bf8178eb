using System.Collections.Concurrent;

namespace Calico.Bgp.Rib;

/// <summary>
/// Interns <see cref="PathAttributes"/> (BIRD's attribute cache): identical sets become one object,
/// so a million routes that share attributes share a handful of objects and compare by reference.
/// Safe for concurrent use; sessions intern while parsing, off the table's writer.
/// </summary>
/// <remarks>
/// The cache holds its sets weakly and forgets the ones nobody holds any more. Reference counts kept
/// by the table on Update/Withdraw would not do: besides the table, sets are held by Adj-RIB-Ins, by
/// filter results in flight, by update groups' Adj-RIB-Out and by the kernel protocol's learned
/// routes, none of which the table sees; only the GC knows when the last of them lets go. Dead
/// entries are dropped by <see cref="Sweep"/>, which interning runs itself after as many new sets as
/// the cache holds (so its cost, linear in the cache, is constant per interned set), and which a
/// host may also run on a timer.
/// </remarks>
public sealed class AttributeCache
{
    /// <summary>New sets between automatic sweeps, at least.</summary>
    private const int MinSweepInterval = 4096;

    private readonly ConcurrentDictionary<Key, WeakReference<PathAttributes>> _sets = new(KeyComparer.Instance);
    private int _addedSinceSweep;
    private int _sweeping;

    /// <summary>Sets held now, counting the ones no longer used until the next <see cref="Sweep"/>.</summary>
    public int Count => _sets.Count;

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
                _sets.TryRemove(new KeyValuePair<Key, WeakReference<PathAttributes>>(new Key(hash, found), found));
                continue;
            }
            var mine = new WeakReference<PathAttributes>(attributes);
            var stored = _sets.GetOrAdd(new Key(hash, mine), mine);
            if (ReferenceEquals(stored, mine))
            {
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
        var removed = 0;
        foreach (var pair in _sets)
        {
            if (!pair.Value.TryGetTarget(out _) && _sets.TryRemove(pair))
                removed++;
        }
        return removed;
    }

    private void SweepNowAndThen()
    {
        if (Interlocked.Increment(ref _addedSinceSweep) < Math.Max(MinSweepInterval, _sets.Count))
            return;
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
