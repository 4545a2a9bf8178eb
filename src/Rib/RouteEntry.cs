using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace Calico.Bgp.Rib;

/// <summary>
/// All routes for one prefix, best first (BIRD's <c>net</c>). Immutable: the table's writer
/// publishes a new entry for every change, so readers see consistent snapshots without locks.
/// </summary>
/// <remarks>
/// Most prefixes have one route (a Calico block has one owner), so an entry is 32 bytes: a version
/// and one reference that is the <see cref="Route"/> itself when there is one, a <c>Route[]</c> best
/// first when there are more, or the boxed <see cref="Rib.Prefix"/> when there is none (a removal, as
/// the journal and the table's map record it). The prefix is read from the routes, not stored again.
/// Hot readers should use <see cref="Count"/>, the indexer, <see cref="Best"/> or <c>foreach</c> over
/// the entry, none of which allocates; <see cref="Routes"/> allocates a one-element array per call for
/// a single-route entry (keeping it would cost every such prefix 32 bytes for as long as it lives).
/// </remarks>
public sealed class RouteEntry
{
    private readonly object _routes;

    /// <param name="routes">A <see cref="Route"/>, a <c>Route[]</c> of two or more (owned by the entry from now on), or a boxed <see cref="Rib.Prefix"/>.</param>
    internal RouteEntry(object routes, long version)
    {
        _routes = routes;
        Version = version;
    }

    public Prefix Prefix => _routes switch
    {
        Route one => one.Prefix,
        Route[] many => many[0].Prefix,
        _ => (Prefix)_routes,
    };

    /// <summary>Every route for the prefix, ordered by the decision process (best first).</summary>
    public ImmutableArray<Route> Routes => _routes switch
    {
        Route one => [one],
        Route[] many => ImmutableCollectionsMarshal.AsImmutableArray(many),
        _ => [],
    };

    /// <summary>The table's change counter when this entry was published.</summary>
    public long Version { get; }

    public Route? Best => _routes switch
    {
        Route one => one,
        Route[] many => many[0],
        _ => null,
    };

    public bool IsEmpty => _routes is Prefix;

    /// <summary>Number of routes (0 for a removal).</summary>
    public int Count => _routes switch
    {
        Route => 1,
        Route[] many => many.Length,
        _ => 0,
    };

    /// <summary>The route at <paramref name="index"/>, best first.</summary>
    public Route this[int index] => _routes switch
    {
        Route one when index == 0 => one,
        Route[] many => many[index],
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    /// <summary>Enumerates the routes best first without allocating.</summary>
    public Enumerator GetEnumerator() => new(this);

    /// <summary>The payload as the table's writer builds the next entry from it.</summary>
    internal object Payload => _routes;

    /// <summary>Whether the entry is for <paramref name="prefix"/> (the table's map compares keys this way).</summary>
    internal bool IsFor(in Prefix prefix) => _routes switch
    {
        Route one => one.IsFor(prefix),
        Route[] many => many[0].IsFor(prefix),
        _ => ((Prefix)_routes).Equals(prefix),
    };

    public struct Enumerator
    {
        private readonly RouteEntry _entry;
        private readonly int _count;
        private int _index;

        internal Enumerator(RouteEntry entry)
        {
            _entry = entry;
            _count = entry.Count;
            _index = -1;
        }

        public readonly Route Current => _entry[_index];

        public bool MoveNext() => ++_index < _count;
    }
}
