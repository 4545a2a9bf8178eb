using System.Runtime.CompilerServices;

namespace Calico.Bgp.Rib;

/// <summary>
/// A routing table (BIRD's <c>master</c>): prefix → <see cref="RouteEntry"/>. Changes are made by one
/// writer at a time and publish a new immutable entry per prefix; readers (control socket, metrics,
/// exporters) enumerate and look up without locks and never block the writer. Exporters learn of
/// changes through the change journal (<see cref="SubscribeJournal"/>: every change in order,
/// bounded, with a resync for readers that fall behind).
/// </summary>
public sealed partial class RoutingTable
{
    private readonly PrefixMap _entries = new();
    private readonly Lock _writer = new();
    private HostCache? _hosts;
    private long _version;
    // Batches open on the thread that holds the writer (BeginBatch); read without the lock only as a hint.
    private int _batchDepth;

    public RoutingTable(string name = "master", AttributeCache? attributes = null)
    {
        Name = name;
        Attributes = attributes ?? new AttributeCache();
    }

    public string Name { get; }
    public AttributeCache Attributes { get; }

    /// <summary>The next hops resolved through this table (<c>gateway recursive</c>); made on first use.</summary>
    public HostCache Hosts
    {
        get
        {
            if (Volatile.Read(ref _hosts) is { } hosts)
                return hosts;
            Interlocked.CompareExchange(ref _hosts, new HostCache(this), null);
            return _hosts!;
        }
    }

    /// <summary>Held by whoever changes the table; the host cache looks up under it too.</summary>
    internal Lock Writer => _writer;

    /// <summary>Number of prefixes with at least one route.</summary>
    public int PrefixCount => _entries.Count;

    /// <summary>Total changes published so far.</summary>
    public long Version => Volatile.Read(ref _version);

    /// <summary>Whether the calling thread holds the writer in a batch (<see cref="BeginBatch"/>).</summary>
    private bool InBatch => Volatile.Read(ref _batchDepth) != 0 && _writer.IsHeldByCurrentThread;

    /// <summary>
    /// Holds the table's writer for a run of changes from this thread (one UPDATE's prefixes), until
    /// the batch is disposed: <see cref="Update"/> and <see cref="Withdraw"/> then skip the lock, and
    /// the journal wakes its readers once at the end instead of after every change (a fenced exchange
    /// each, with the stores of the change before it still in flight). Other writers wait for the end,
    /// as they would for one change; readers never wait. Keep a batch to synchronous work: nothing in
    /// it may wait for another thread that changes this table.
    /// </summary>
    public WriteBatch BeginBatch()
    {
        _writer.Enter();
        if (_batchDepth == 0)
            _journal?.DeferWakes();
        Volatile.Write(ref _batchDepth, _batchDepth + 1);
        return new WriteBatch(this);
    }

    /// <summary>How many times the journal woke its readers (tests).</summary>
    internal long JournalWakes => _journal?.Wakes ?? 0;

    /// <summary>Changes a long batch makes between two wake-ups of the journal's readers (<see cref="WakeInLongBatch"/>).</summary>
    private const int WakeEvery = 4096;

    /// <summary>
    /// A batch of many changes (a bulk removal) wakes the journal's readers every <see cref="WakeEvery"/>
    /// changes, so on another core they work while it goes on, without a fenced wake-up per change; a
    /// batch the caller opened around it keeps its own wake-up for its end. Under the writer, in a batch.
    /// </summary>
    private void WakeInLongBatch(ref int changes)
    {
        if (++changes % WakeEvery != 0 || _batchDepth != 1)
            return;
        _journal?.WakeDeferred();
        _journal?.DeferWakes();
    }

    private void EndBatch()
    {
        if (!_writer.IsHeldByCurrentThread || _batchDepth == 0)
            throw new SynchronizationLockException("The batch ended on a thread that does not hold it.");
        Volatile.Write(ref _batchDepth, _batchDepth - 1);
        if (_batchDepth == 0)
            _journal?.WakeDeferred();
        _writer.Exit();
    }

    /// <summary>A run of changes under the table's writer (<see cref="BeginBatch"/>); dispose it on the thread that began it.</summary>
    public readonly struct WriteBatch : IDisposable
    {
        private readonly RoutingTable? _table;

        internal WriteBatch(RoutingTable table) => _table = table;

        public void Dispose() => _table?.EndBatch();
    }

    public RouteEntry? Find(Prefix prefix) => _entries.Find(prefix);

    /// <summary>The entries as they are now; each one is a consistent snapshot, and each prefix appears once.</summary>
    public IEnumerable<RouteEntry> Entries => _entries.Entries();

    /// <summary>The number of <paramref name="prefix"/> in this table (<see cref="TableChange.Number"/>), or -1 when the table does not know it.</summary>
    public int NumberOf(in Prefix prefix) => _entries.NumberOf(prefix);

    /// <summary>Every number given to a prefix so far is below this (an exporter sizes its arrays by it).</summary>
    public int NumberLimit => _entries.NumberLimit;

    internal void CopyEntriesTo(List<RouteEntry> entries, List<int> numbers) => _entries.CopyTo(entries, numbers);

    /// <summary>
    /// Adds a route, or replaces the one with the same protocol and path id. Says which, so an
    /// importer need not look the prefix up first (one probe of the map per received path, not two).
    /// </summary>
    public RouteUpdate Update(Route route)
    {
        if (InBatch)
            return UpdateHeld(route);
        lock (_writer)
            return UpdateHeld(route);
    }

    private RouteUpdate UpdateHeld(Route route)
    {
        var prefix = route.Prefix;
        var hash = PrefixMap.Hash(prefix);
        var cell = _entries.Locate(prefix, hash);
        var old = _entries.EntryAt(cell);
        var routes = old?.Payload;
        var index = RouteList.IndexOfSlot(routes, route.Protocol, route.PathId);
        if (index >= 0)
        {
            if (RouteList.At(routes!, index).SameContent(route))
                return RouteUpdate.Unchanged;
            routes = RouteList.RemoveAt(routes!, index);
        }
        Publish(prefix, hash, cell, RouteList.Insert(routes, route));
        return index >= 0 ? RouteUpdate.Replaced : RouteUpdate.Added;
    }

    /// <summary>Removes the route of <paramref name="protocol"/> with <paramref name="pathId"/>; false when there was none.</summary>
    public bool Withdraw(Prefix prefix, Protocol protocol, uint pathId = 0)
    {
        if (InBatch)
            return WithdrawHeld(prefix, protocol, pathId);
        lock (_writer)
            return WithdrawHeld(prefix, protocol, pathId);
    }

    private bool WithdrawHeld(in Prefix prefix, Protocol protocol, uint pathId)
    {
        var hash = PrefixMap.Hash(prefix);
        var cell = _entries.Locate(prefix, hash);
        var old = _entries.EntryAt(cell);
        if (old is null)
            return false;
        var index = RouteList.IndexOfSlot(old.Payload, protocol, pathId);
        if (index < 0)
            return false;
        Publish(prefix, hash, cell, RouteList.RemoveAt(old.Payload!, index));
        return true;
    }

    /// <summary>Removes every route of <paramref name="protocol"/>; returns how many.</summary>
    public int WithdrawAll(Protocol protocol) => Noticed(RemoveWhere(protocol, staleOnly: false));

    /// <summary>The fewest routes a <see cref="WithdrawAll"/> or <see cref="WithdrawStale"/> removes for <see cref="BulkRemoved"/> to be raised.</summary>
    public const int BulkRemovalNotice = 10_000;

    /// <summary>
    /// Raised, outside the table's lock, after <see cref="WithdrawAll"/> or <see cref="WithdrawStale"/>
    /// removed at least <see cref="BulkRemovalNotice"/> routes (a peer with a big table went away),
    /// with how many: the process may give the memory they held back (the GC frees it only at its next
    /// full collection, which a quiet daemon may not have for hours; BIRD frees it at once).
    /// </summary>
    public event Action<int>? BulkRemoved;

    private int Noticed(int removed)
    {
        if (removed >= BulkRemovalNotice)
            BulkRemoved?.Invoke(removed);
        return removed;
    }

    /// <summary>Marks every route of <paramref name="protocol"/> stale (RFC 4724 §4.2, receiving speaker).</summary>
    public int MarkStale(Protocol protocol)
    {
        var n = 0;
        var changes = 0;
        using (BeginBatch())
        {
            using var bulk = BeginBulkChange();
            // Replacing entries leaves the map's array as it is (no key comes or goes), so walking it is safe.
            foreach (var live in _entries.WalkLive())
            {
                var entry = live.Entry;
                Route[]? routes = null;
                for (var i = 0; i < entry.Count; i++)
                {
                    var r = entry[i];
                    if (ReferenceEquals(r.Protocol, protocol) && !r.Stale)
                    {
                        routes ??= RouteList.ToArray(entry.Payload);
                        routes[i] = r.AsStale();
                        n++;
                    }
                }
                if (routes is not null)
                {
                    Publish(entry.Prefix, live.Hash, live.Cell, RouteList.FromArray(routes, routes.Length, sort: true));
                    WakeInLongBatch(ref changes);
                }
            }
        }
        return n;
    }

    /// <summary>Removes the routes of <paramref name="protocol"/> still stale (End-of-RIB or restart timer, RFC 4724 §4.2).</summary>
    public int WithdrawStale(Protocol protocol) => Noticed(RemoveWhere(protocol, staleOnly: true));

    /// <summary>
    /// Removes the routes of <paramref name="protocol"/> (only the stale ones with
    /// <paramref name="staleOnly"/>), one journal change per prefix that loses any. A direct pass over
    /// each entry's payload: a lone route (most prefixes) is checked with no indexer call and no
    /// delegate, and a prefix none of whose routes go costs a walk of its array only.
    /// </summary>
    private int RemoveWhere(Protocol protocol, bool staleOnly)
    {
        var n = 0;
        var changes = 0;
        using (BeginBatch())
        {
            using var bulk = BeginBulkChange();
            // The map shrinks once, at the end, not at every halving of what is left, so the walk is
            // over the live array, each entry current when reached (only this loop changes them), and
            // each change made at the cell the walk is at.
            using var shrink = _entries.DeferShrink();
            foreach (var live in _entries.WalkLive())
            {
                var entry = live.Entry;
                var payload = entry.Payload;
                if (payload is null)
                    continue;
                if (!RouteList.IsMany(payload))
                {
                    var one = Unsafe.As<Route>(payload);
                    if (Goes(one, protocol, staleOnly))
                    {
                        n++;
                        Publish(entry.Prefix, live.Hash, live.Cell, null);
                        WakeInLongBatch(ref changes);
                    }
                    continue;
                }
                var many = Unsafe.As<Route[]>(payload);
                var count = many.Length;
                Route[]? kept = null;
                var k = 0;
                for (var i = 0; i < count; i++)
                {
                    var r = many[i];
                    if (!Goes(r, protocol, staleOnly))
                    {
                        if (kept is not null)
                            kept[k] = r;
                        k++;
                    }
                    else if (kept is null)
                    {
                        // The first route to go: copy the ones kept so far, and keep the rest as they come.
                        kept = new Route[count];
                        Array.Copy(many, kept, i);
                    }
                }
                if (kept is not null)
                {
                    n += count - k;
                    Publish(entry.Prefix, live.Hash, live.Cell, RouteList.FromArray(kept, k, sort: false));
                    WakeInLongBatch(ref changes);
                }
            }
        }
        return n;
    }

    private static bool Goes(Route r, Protocol protocol, bool staleOnly) =>
        ReferenceEquals(r.Protocol, protocol) && (!staleOnly || r.Stale);

    /// <summary>
    /// Publishes the new routes of a prefix (whose map hash is <paramref name="hash"/>, at the map's
    /// <paramref name="cell"/> from <see cref="PrefixMap.Locate"/>): the entry for readers, then the journal.
    /// </summary>
    private void Publish(in Prefix prefix, int hash, int cell, object? routes)
    {
        // Under the writer, the only one that changes it: a plain increment, published by a release
        // store that the entry's own (volatile) publication follows.
        var version = _version + 1;
        Volatile.Write(ref _version, version);
        if (routes is null && _entries.InBulkRemoval)
        {
            // A removal in bulk (RemoveWhere): the map keeps the prefix's last entry as its tombstone and
            // the journal records the removal by that entry, so a withdrawn table costs no object per
            // prefix (bench/RESULTS-perf.md, fifteenth round).
            var removed = _entries.RemoveInBulk(cell, out var last);
            _journal?.AppendRemoval(last, removed, version);
            _hosts?.Touch(prefix);
            return;
        }
        // A lone route that never was an entry becomes the entry itself; a removal's empty entry is
        // also the tombstone the map keeps, so each change costs one new object at most.
        var entry = RouteEntry.Seal(prefix, routes, version);
        var number = entry.IsEmpty ? _entries.Remove(entry, prefix, hash, cell) : _entries.Set(entry, prefix, hash, cell);
        _journal?.Append(entry, number, version);
        _hosts?.Touch(prefix);
    }
}
