using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Speaker;

/// <summary>
/// A session's Adj-RIB-In before policy (RFC 4271 §3.2): each path as the neighbour sent it, so a new
/// import filter can be run over them on reload without asking the neighbour again (no ROUTE-REFRESH,
/// no session reset). Attribute sets are the table's interned ones, so an entry costs one slot.
/// Callers hold <see cref="Sync"/> across a change of this and the table, so a re-evaluation never
/// interleaves with an UPDATE.
/// </summary>
/// <remarks>
/// With <c>import all</c> (what Calico configures for every BGP peer) and no import limit, the table
/// already holds every received path exactly as received, stale flag included: the Adj-RIB-In is then
/// <em>mirrored</em> — it stores nothing and answers from the table's routes of its protocol, which
/// saves a dictionary entry and a hash insert per route (BIRD keeps no Adj-RIB-In at all without
/// <c>import table</c>). A filter that is not <c>all</c> materializes it from the table first.
/// </remarks>
public sealed class AdjRibIn
{
    private readonly RoutingTable _table;
    private readonly Protocol _owner;
    // Null while mirrored.
    private Dictionary<Nlri, Entry>? _paths;

    public AdjRibIn(RoutingTable table, Protocol owner, bool mirrored)
    {
        _table = table;
        _owner = owner;
        _paths = mirrored ? null : [];
    }

    /// <summary>Taken around each UPDATE's changes and around a re-evaluation.</summary>
    public Lock Sync { get; } = new();

    /// <summary>True while the table's routes of the protocol are the Adj-RIB-In (see the remarks).</summary>
    public bool IsMirrored => _paths is null;

    public int Count => _paths?.Count ?? Owned().Count();

    /// <summary>One received path; stale while the neighbour restarts (RFC 4724 §4.2) until it sends it again.</summary>
    public readonly record struct Entry(PathAttributes Attributes, bool Stale);

    public void Set(in Nlri nlri, PathAttributes attributes)
    {
        if (_paths is not null)
            _paths[nlri] = new Entry(attributes, false);
    }

    public void Remove(in Nlri nlri) => _paths?.Remove(nlri);

    public void Clear() => _paths?.Clear();

    /// <summary>The session went down with graceful restart: every path is kept, but stale (mirrored: the table's own mark is the record).</summary>
    public void MarkStale()
    {
        if (_paths is null)
            return;
        foreach (var key in _paths.Keys.ToList())
            _paths[key] = _paths[key] with { Stale = true };
    }

    /// <summary>Removes every path of one address family (not kept over a restart); returns them.</summary>
    public List<Nlri> RemoveFamily(bool v6) => RemoveWhere((n, _) => n.Prefix.IsV6 == v6);

    /// <summary>
    /// Removes the paths of one address family still stale (that family's End-of-RIB, or its
    /// forwarding state was lost, RFC 4724 §4.2); returns them.
    /// </summary>
    public List<Nlri> RemoveStale(bool v6) => RemoveWhere((n, e) => e.Stale && n.Prefix.IsV6 == v6);

    /// <summary>Mirrored: lists the matching paths; the caller withdraws them from the table, which removes them from here too.</summary>
    private List<Nlri> RemoveWhere(Func<Nlri, Entry, bool> predicate)
    {
        if (_paths is null)
            return [.. Owned().Where(p => predicate(p.Key, p.Value)).Select(p => p.Key)];
        var gone = _paths.Where(kv => predicate(kv.Key, kv.Value)).Select(kv => kv.Key).ToList();
        foreach (var key in gone)
            _paths.Remove(key);
        return gone;
    }

    /// <summary>A copy of the paths (for a re-evaluation and for tests).</summary>
    public IReadOnlyList<KeyValuePair<Nlri, Entry>> Snapshot() => _paths is null ? [.. Owned()] : [.. _paths];

    /// <summary>Stops mirroring: copies the protocol's routes from the table (a filter that is not <c>all</c> is coming).</summary>
    public void Materialize() => _paths ??= new Dictionary<Nlri, Entry>(Owned());

    /// <summary>Starts mirroring: only once the table holds every path as received (after a re-evaluation with <c>all</c>).</summary>
    public void Mirror() => _paths = null;

    /// <summary>The protocol's routes in the table, as Adj-RIB-In entries.</summary>
    private IEnumerable<KeyValuePair<Nlri, Entry>> Owned()
    {
        foreach (var entry in _table.Entries)
        {
            foreach (var r in entry)
            {
                if (ReferenceEquals(r.Protocol, _owner))
                    yield return new(new Nlri(r.Prefix, r.PathId), new Entry(r.Attributes, r.Stale));
            }
        }
    }
}
