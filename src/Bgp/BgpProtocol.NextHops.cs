using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Speaker;

/// <summary>
/// <c>gateway recursive</c>: a received route forwards the way its BGP next hop is reached through
/// the table (BIRD's hostentry; RFC 4271 §5.1.3 and §9.1.2.1), resolved when it arrives and again
/// whenever the routes it went through change. With <c>gateway direct</c> the next hop is the gateway
/// as received, and the kernel finds its link.
/// </summary>
public sealed partial class BgpProtocol
{
    // 1 while subscribed to the host cache; set by a start, cleared by the stop that follows it.
    private int _watchingNextHops;

    // The next hops this session's paths were resolved through, so a change elsewhere (a reflector has
    // a next hop per client) costs the other sessions no walk of their paths. Under _adjRibIn.Sync.
    private readonly HashSet<IpAddr> _nextHopsUsed = [];

    /// <summary>The received attributes with the destination they resolve to (unchanged without <c>gateway recursive</c>).</summary>
    private PathAttributes ResolveNextHop(PathAttributes a)
    {
        if (!Options.GatewayRecursive || a.NextHop is not { } nextHop)
            return a;
        _nextHopsUsed.Add(nextHop);
        return Table.Hosts.Resolve(nextHop).ApplyTo(a);
    }

    /// <summary>
    /// From the start of the protocol: learn when next hops resolve differently. The neighbour's own
    /// address, the next hop of most of its routes, is looked up now rather than in its first UPDATE.
    /// </summary>
    private void WatchNextHops()
    {
        if (!Options.GatewayRecursive || Interlocked.Exchange(ref _watchingNextHops, 1) == 1)
            return;
        Table.Hosts.Changed += OnNextHopsChanged;
        Table.Hosts.Resolve(Options.NeighborAddress);
    }

    private void StopWatchingNextHops()
    {
        if (Interlocked.Exchange(ref _watchingNextHops, 0) == 1)
            Table.Hosts.Changed -= OnNextHopsChanged;
    }

    /// <summary>On the host cache's refresh: the paths through <paramref name="changed"/> next hops take their new destination.</summary>
    private void OnNextHopsChanged(IReadOnlySet<IpAddr> changed)
    {
        try
        {
            var count = ResolveAgain(changed);
            if (count > 0)
                TraceEvent(ProtocolEvents.Scan, $"Next hops changed, {count} routes resolved again");
        }
        catch (Exception e)
        {
            _log.LogError(e, "{Name}: resolving next hops again failed", Name);
        }
    }

    /// <summary>
    /// BIRD's <c>rt_next_hop_update</c> for this session's paths: each fresh path whose next hop is
    /// in <paramref name="changed"/> is resolved again and, if that changes it, put through the import
    /// filter again, as one batch against UPDATEs. Stale paths keep theirs until the neighbour sends
    /// them again. Counted only in the routes imported, not as updates received.
    /// </summary>
    internal int ResolveAgain(IReadOnlySet<IpAddr> changed)
    {
        var count = 0;
        lock (_adjRibIn.Sync)
        {
            if (!_nextHopsUsed.Overlaps(changed))
                return 0;
            var since = Time.GetUtcNow();
            // Paths share their attribute sets: each set is resolved once.
            Dictionary<PathAttributes, PathAttributes>? resolved = null;
            foreach (var (nlri, entry) in _adjRibIn.Snapshot())
            {
                var a = entry.Attributes;
                if (entry.Stale || !a.Recursive || a.NextHop is not { } nextHop || !changed.Contains(nextHop))
                    continue;
                resolved ??= new(ReferenceEqualityComparer.Instance);
                if (!resolved.TryGetValue(a, out var b))
                    resolved[a] = b = Table.Attributes.Intern(ResolveNextHop(a));
                if (ReferenceEquals(a, b))
                    continue;
                _adjRibIn.Set(nlri, b);
                ApplyImportFilter(nlri, b, since);
                count++;
            }
            // Not updates from the neighbour: only the change in routes imported is kept.
            Stats.AddImported(_tally.Imported);
            _tally = default;
        }
        return count;
    }
}
