using System.Collections.Immutable;
using System.Runtime.CompilerServices;

namespace Calico.Bgp.Rib;

/// <summary>
/// All routes for one prefix, best first (BIRD's <c>net</c>). Immutable: the table's writer
/// publishes a new entry for every change, so readers see consistent snapshots without locks.
/// </summary>
/// <remarks>
/// <para>Three kinds, one object each. Most prefixes have one route (a Calico block has one owner),
/// and then the entry is that <see cref="Route"/> itself: a received route costs the table one
/// long-lived object, not a route and an entry beside it (the generational GC copies every survivor,
/// so the object count of a full feed is what it pays for). Two or more routes are a
/// <see cref="MultiRouteEntry"/> over a <c>Route[]</c>; a removal (as the journal and the table's map
/// record it) is an <see cref="EmptyRouteEntry"/> that keeps the prefix.</para>
/// <para>A route's <see cref="Version"/> is set once, by the writer of the table that first publishes
/// the route as its prefix's entry, before any reader can reach it; a route that was an entry already
/// (in this table or another) is published again inside a fresh <see cref="MultiRouteEntry"/>, so each
/// entry object stands for one change only (and for its prefix's removal in bulk, which the journal
/// tags apart), which the journal's seqlock relies on, and a route keeps
/// its identity wherever it is kept (a best route that did not change is the same object).</para>
/// <para>Hot readers should use <see cref="Count"/>, the indexer, <see cref="Best"/> or <c>foreach</c>
/// over the entry, none of which allocates; <see cref="Routes"/> allocates a one-element array per call
/// for a single-route entry.</para>
/// </remarks>
public abstract class RouteEntry
{
    /// <summary>A kind of entry; each keeps its own <see cref="Stamp"/>.</summary>
    private protected RouteEntry()
    {
    }

    /// <summary>
    /// An entry's version as it keeps it: the version's low 31 bits with bit 31 set, so 0 is "none yet"
    /// (a route not yet published). Four bytes, not eight: with the route's path id only where it has
    /// one, that makes an IPv4 route a 48-byte object (bench/RESULTS-perf.md, fifteenth round). The
    /// journal tags its slots with the whole change instead, so no reader compares stamps.
    /// </summary>
    internal static uint StampOf(long version) => 0x8000_0000u | ((uint)version & 0x7FFF_FFFFu);

    /// <summary>This entry's stamp (<see cref="StampOf"/>), or 0 for a route no table has published. Any thread.</summary>
    private protected abstract uint Stamp { get; }


    public abstract Prefix Prefix { get; }

    /// <summary>Every route for the prefix, ordered by the decision process (best first).</summary>
    public abstract ImmutableArray<Route> Routes { get; }

    /// <summary>
    /// The table's change counter when this entry was published, modulo 2^31 (0 for a route never
    /// published as an entry). Read on a route found inside a bigger entry it says nothing about that
    /// entry. A journal change's <see cref="TableChange.Version"/> is the whole counter.
    /// </summary>
    public long Version => Stamp & 0x7FFF_FFFF;

    public abstract Route? Best { get; }

    public bool IsEmpty => Count == 0;

    /// <summary>Number of routes (0 for a removal).</summary>
    public abstract int Count { get; }

    /// <summary>The route at <paramref name="index"/>, best first.</summary>
    public abstract Route this[int index] { get; }

    /// <summary>Enumerates the routes best first without allocating.</summary>
    public Enumerator GetEnumerator() => new(this);

    /// <summary>
    /// The routes as the table's writer edits them (<see cref="RouteList"/>): a <see cref="Route"/>,
    /// a <c>Route[]</c> best first, or null for none.
    /// </summary>
    internal abstract object? Payload { get; }

    /// <summary>Whether the entry is for <paramref name="prefix"/> (the table's map compares keys this way).</summary>
    internal abstract bool IsFor(in Prefix prefix);


    /// <summary>
    /// The entry for a writer's new <paramref name="payload"/> of <paramref name="prefix"/> at
    /// <paramref name="version"/>: the route itself when it is alone and never was an entry, else a
    /// fresh object. Writer only; the result is not visible to readers until the writer publishes it.
    /// </summary>
    internal static RouteEntry Seal(in Prefix prefix, object? payload, long version)
    {
        if (payload is null)
            return new EmptyRouteEntry(prefix, version);
        if (RouteList.IsMany(payload))
            return new MultiRouteEntry(Unsafe.As<Route[]>(payload), version);
        var one = Unsafe.As<Route>(payload);
        return one.TryClaimVersion(version) ? one : new MultiRouteEntry([one], version);
    }

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
