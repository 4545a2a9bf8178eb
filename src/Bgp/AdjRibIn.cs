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
public sealed class AdjRibIn
{
    private readonly Dictionary<Nlri, Entry> _paths = [];

    /// <summary>Taken around each UPDATE's changes and around a re-evaluation.</summary>
    public Lock Sync { get; } = new();

    public int Count => _paths.Count;

    /// <summary>One received path; stale while the neighbour restarts (RFC 4724 §4.2) until it sends it again.</summary>
    public readonly record struct Entry(PathAttributes Attributes, bool Stale);

    public void Set(in Nlri nlri, PathAttributes attributes) => _paths[nlri] = new Entry(attributes, false);

    public bool Remove(in Nlri nlri) => _paths.Remove(nlri);

    public bool TryGet(in Nlri nlri, out Entry entry) => _paths.TryGetValue(nlri, out entry);

    public void Clear() => _paths.Clear();

    /// <summary>The session went down with graceful restart: every path is kept, but stale.</summary>
    public void MarkStale()
    {
        foreach (var key in _paths.Keys.ToList())
            _paths[key] = _paths[key] with { Stale = true };
    }

    /// <summary>End-of-RIB or the restart time: what was not sent again goes.</summary>
    public int RemoveStale()
    {
        var stale = _paths.Where(kv => kv.Value.Stale).Select(kv => kv.Key).ToList();
        foreach (var key in stale)
            _paths.Remove(key);
        return stale.Count;
    }

    /// <summary>Removes every path of one address family (not kept over a restart); returns them.</summary>
    public List<Nlri> RemoveFamily(bool v6) => RemoveWhere(kv => kv.Key.Prefix.IsV6 == v6);

    /// <summary>
    /// Removes the paths of one address family still stale (that family's End-of-RIB, or its
    /// forwarding state was lost, RFC 4724 §4.2); returns them.
    /// </summary>
    public List<Nlri> RemoveStale(bool v6) => RemoveWhere(kv => kv.Value.Stale && kv.Key.Prefix.IsV6 == v6);

    private List<Nlri> RemoveWhere(Func<KeyValuePair<Nlri, Entry>, bool> predicate)
    {
        var gone = _paths.Where(predicate).Select(kv => kv.Key).ToList();
        foreach (var key in gone)
            _paths.Remove(key);
        return gone;
    }

    /// <summary>A copy of the paths (for a re-evaluation and for tests).</summary>
    public IReadOnlyList<KeyValuePair<Nlri, Entry>> Snapshot() => [.. _paths];
}
