using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace Calico.Bgp.Rib;

/// <summary>
/// A routing table (BIRD's <c>master</c>): prefix → <see cref="RouteEntry"/>. Changes are made by one
/// writer at a time and publish a new immutable entry per prefix; readers (control socket, metrics,
/// exporters) enumerate and look up without locks and never block the writer. Exporters learn of
/// changes through <see cref="TableSubscription"/>s (coalesced dirty prefixes) or through the change
/// journal (<see cref="SubscribeJournal"/>: every change in order, bounded, with a resync for readers
/// that fall behind).
/// </summary>
public sealed partial class RoutingTable
{
    private readonly ConcurrentDictionary<Prefix, RouteEntry> _entries = new();
    private readonly Lock _writer = new();
    private ImmutableArray<TableSubscription> _subscriptions = [];
    private long _version;

    public RoutingTable(string name = "master", AttributeCache? attributes = null)
    {
        Name = name;
        Attributes = attributes ?? new AttributeCache();
    }

    public string Name { get; }
    public AttributeCache Attributes { get; }

    /// <summary>Number of prefixes with at least one route.</summary>
    public int PrefixCount => _entries.Count;

    /// <summary>Total changes published so far.</summary>
    public long Version => Interlocked.Read(ref _version);

    public RouteEntry? Find(Prefix prefix) => _entries.TryGetValue(prefix, out var e) ? e : null;

    /// <summary>The entries as they are now; each one is a consistent snapshot.</summary>
    public IEnumerable<RouteEntry> Entries => _entries.Values;

    /// <summary>Adds a route, or replaces the one with the same protocol and path id.</summary>
    public void Update(Route route)
    {
        lock (_writer)
        {
            var old = Find(route.Prefix);
            var routes = old?.Routes ?? [];
            var index = IndexOfSlot(routes, route.Protocol, route.PathId);
            if (index >= 0)
            {
                if (routes[index].SameContent(route))
                    return;
                routes = routes.RemoveAt(index);
            }
            Publish(route.Prefix, old, Insert(routes, route));
        }
    }

    /// <summary>Removes the route of <paramref name="protocol"/> with <paramref name="pathId"/>; false when there was none.</summary>
    public bool Withdraw(Prefix prefix, Protocol protocol, uint pathId = 0)
    {
        lock (_writer)
        {
            var old = Find(prefix);
            if (old is null)
                return false;
            var index = IndexOfSlot(old.Routes, protocol, pathId);
            if (index < 0)
                return false;
            Publish(prefix, old, old.Routes.RemoveAt(index));
            return true;
        }
    }

    /// <summary>Removes every route of <paramref name="protocol"/>; returns how many.</summary>
    public int WithdrawAll(Protocol protocol) => RemoveWhere(protocol, static _ => true);

    /// <summary>Marks every route of <paramref name="protocol"/> stale (RFC 4724 §4.2, receiving speaker).</summary>
    public int MarkStale(Protocol protocol)
    {
        var n = 0;
        lock (_writer)
        {
            foreach (var entry in _entries.Values)
            {
                var routes = entry.Routes;
                var changed = false;
                for (var i = 0; i < routes.Length; i++)
                {
                    if (ReferenceEquals(routes[i].Protocol, protocol) && !routes[i].Stale)
                    {
                        routes = routes.SetItem(i, routes[i].AsStale());
                        changed = true;
                        n++;
                    }
                }
                if (changed)
                    Publish(entry.Prefix, entry, Sort(routes));
            }
        }
        return n;
    }

    /// <summary>Removes the routes of <paramref name="protocol"/> still stale (End-of-RIB or restart timer, RFC 4724 §4.2).</summary>
    public int WithdrawStale(Protocol protocol) => RemoveWhere(protocol, static r => r.Stale);

    private int RemoveWhere(Protocol protocol, Func<Route, bool> predicate)
    {
        var n = 0;
        lock (_writer)
        {
            foreach (var entry in _entries.Values)
            {
                var routes = entry.Routes;
                var kept = routes.RemoveAll(r => ReferenceEquals(r.Protocol, protocol) && predicate(r));
                if (kept.Length != routes.Length)
                {
                    n += routes.Length - kept.Length;
                    Publish(entry.Prefix, entry, kept);
                }
            }
        }
        return n;
    }

    /// <summary>
    /// Registers an exporter. Every prefix present now is reported dirty at once, so the first drain
    /// is the full table (BIRD's initial feed).
    /// </summary>
    public TableSubscription Subscribe(string consumer)
    {
        var sub = new TableSubscription(this, consumer);
        lock (_writer)
        {
            _subscriptions = _subscriptions.Add(sub);
            foreach (var prefix in _entries.Keys)
                sub.MarkDirty(prefix);
        }
        return sub;
    }

    internal void Unsubscribe(TableSubscription subscription)
    {
        lock (_writer)
            _subscriptions = _subscriptions.Remove(subscription);
    }

    /// <summary>Asks for every prefix to be reported to <paramref name="subscription"/> again (route refresh, filter change).</summary>
    public void Refeed(TableSubscription subscription)
    {
        lock (_writer)
        {
            foreach (var prefix in _entries.Keys)
                subscription.MarkDirty(prefix);
        }
    }

    private static int IndexOfSlot(ImmutableArray<Route> routes, Protocol protocol, uint pathId)
    {
        for (var i = 0; i < routes.Length; i++)
        {
            if (ReferenceEquals(routes[i].Protocol, protocol) && routes[i].PathId == pathId)
                return i;
        }
        return -1;
    }

    private static ImmutableArray<Route> Insert(ImmutableArray<Route> routes, Route route)
    {
        var i = 0;
        while (i < routes.Length && DecisionProcess.Compare(routes[i], route) <= 0)
            i++;
        return routes.Insert(i, route);
    }

    private static ImmutableArray<Route> Sort(ImmutableArray<Route> routes) =>
        routes.Sort(static (a, b) => DecisionProcess.Compare(a, b));

    /// <summary>Publishes the new routes of a prefix: the entry for readers, then the journal, then the dirty sets.</summary>
    private void Publish(Prefix prefix, RouteEntry? old, ImmutableArray<Route> routes)
    {
        var version = Interlocked.Increment(ref _version);
        RouteEntry? entry = null;
        if (routes.IsEmpty)
            _entries.TryRemove(prefix, out _);
        else
            _entries[prefix] = entry = new RouteEntry(prefix, routes, version);
        // A removal is journalled as an empty entry, made only when someone reads the journal.
        _journal?.Append(entry ?? new RouteEntry(prefix, [], version), old?.Best);
        foreach (var sub in _subscriptions)
            sub.MarkDirty(prefix);
    }
}
