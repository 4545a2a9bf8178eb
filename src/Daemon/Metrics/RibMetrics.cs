using Calico.Bgp.Rib;

namespace Calico.Bgp.Daemon.Metrics;

/// <summary>
/// Routing table metrics. Route counts come from one walk over the table's entries per scrape
/// (each entry an immutable snapshot, so the walk never blocks the writer); labels are the table,
/// the family and the route source (BIRD's <c>RTS_*</c>), a handful of values.
/// </summary>
internal sealed class RibMetrics
{
    private static readonly string[] SourceNames = [.. Enum.GetValues<RouteSource>().Select(SourceLabel)];

    private readonly ScrapedGauge _prefixes;
    private readonly ScrapedGauge _routes;
    private readonly ScrapedGauge _bestRoutes;
    private readonly ScrapedGauge _staleRoutes;
    private readonly ScrapedGauge _unresolvedRoutes;
    private readonly ScrapedGauge _nextHops;
    private readonly ScrapedCounter _nextHopRefreshes;
    private readonly ScrapedGauge _attributeSets;
    private readonly ScrapedCounter _changes;
    private readonly ScrapedGauge _journalLag;
    private readonly ScrapedCounter _journalResyncs;

    public RibMetrics(MetricGroup g)
    {
        _prefixes = g.Gauge("calico_bgp_rib_prefixes", "Prefixes with at least one route.", "table");
        _routes = g.Gauge("calico_bgp_rib_routes", "Routes in the table, best or not, by family and source.", "table", "family", "source");
        _bestRoutes = g.Gauge("calico_bgp_rib_best_routes", "Best routes (one per prefix), by family and source.", "table", "family", "source");
        _staleRoutes = g.Gauge("calico_bgp_rib_stale_routes", "Routes kept stale for a gracefully restarting neighbor.", "table");
        _unresolvedRoutes = g.Gauge("calico_bgp_rib_unresolved_routes", "Routes whose BGP next hop does not resolve through the table (gateway recursive): unreachable, and never preferred over a resolvable one.", "table");
        _nextHops = g.Gauge("calico_bgp_rib_next_hops", "BGP next hops resolved through the table (gateway recursive), by whether they resolve now.", "table", "state");
        _nextHopRefreshes = g.Counter("calico_bgp_rib_next_hop_refreshes_total", "Times a table change made the next hops be looked up again.", "table");
        _attributeSets = g.Gauge("calico_bgp_rib_attribute_sets", "Interned path attribute sets shared by the routes.", "table");
        _changes = g.Counter("calico_bgp_rib_changes_total", "Route changes published by the table (adds, replacements, withdrawals).", "table");
        _journalLag = g.Gauge("calico_bgp_rib_journal_lag_changes", "Changes in the table's journal a consumer (BGP update groups, kernel) has not read yet.", "table", "consumer");
        _journalResyncs = g.Counter("calico_bgp_rib_journal_resyncs_total", "Times a consumer fell a journal's length behind and resynced from the whole table.", "table", "consumer");
    }

    public void Collect(IMetricsSource source)
    {
        var table = source.Table;
        var name = table.Name;
        // [family][source]: v4 = 0, v6 = 1.
        var all = new long[2, SourceNames.Length];
        var best = new long[2, SourceNames.Length];
        long stale = 0;
        long unresolved = 0;
        foreach (var entry in table.Entries)
        {
            var routes = entry.Routes;
            if (routes.IsEmpty)
                continue;
            var family = entry.Prefix.IsV6 ? 1 : 0;
            best[family, SourceIndex(routes[0].Attributes.Source)]++;
            foreach (var r in routes)
            {
                all[family, SourceIndex(r.Attributes.Source)]++;
                if (r.Stale)
                    stale++;
                if (r.Attributes.NextHopUnresolved)
                    unresolved++;
            }
        }
        _prefixes.Set(table.PrefixCount, name);
        for (var f = 0; f < 2; f++)
        {
            var family = f == 0 ? "ipv4" : "ipv6";
            for (var s = 0; s < SourceNames.Length; s++)
            {
                // Only sources that have routes, plus BGP and static always, keep the output short.
                if (all[f, s] == 0 && s != SourceIndex(RouteSource.Bgp) && s != SourceIndex(RouteSource.Static))
                    continue;
                _routes.Set(all[f, s], name, family, SourceNames[s]);
                _bestRoutes.Set(best[f, s], name, family, SourceNames[s]);
            }
        }
        _staleRoutes.Set(stale, name);
        _unresolvedRoutes.Set(unresolved, name);
        var (resolvable, unresolvable) = table.Hosts.CountByState();
        _nextHops.Set(resolvable, name, "resolved");
        _nextHops.Set(unresolvable, name, "unresolved");
        _nextHopRefreshes.Set(table, table.Hosts.Refreshes, name);
        _attributeSets.Set(table.Attributes.Count, name);
        _changes.Set(table, table.Version, name);
        // Several update groups share a consumer name: sum them.
        foreach (var group in table.JournalReaders.GroupBy(r => r.Consumer, StringComparer.Ordinal))
        {
            _journalLag.Set(group.Sum(r => r.Lag), name, group.Key);
            _journalResyncs.Set(table, group.Sum(r => r.OverflowCount), name, group.Key);
        }
    }

    // RTS_* values run 0..13 without gaps, so the value is the index.
    private static int SourceIndex(RouteSource source) => (int)source < SourceNames.Length ? (int)source : 0;

    /// <summary>BIRD's <c>RTS_*</c> names in lower case (<c>bgp</c>, <c>static</c>, <c>inherit</c> …).</summary>
    internal static string SourceLabel(RouteSource source) => source switch
    {
        RouteSource.StaticDevice => "static_device",
        RouteSource.OspfIa => "ospf_ia",
        RouteSource.OspfExt1 => "ospf_ext1",
        RouteSource.OspfExt2 => "ospf_ext2",
        _ => source.ToString().ToLowerInvariant(),
    };
}
