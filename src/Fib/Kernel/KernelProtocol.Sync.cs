using System.Collections.Immutable;
using Calico.Bgp.Fib.Interfaces;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Fib.Kernel;

/// <summary>The reconcile steps: desired (table best after the export filter) against actual (a dump of proto 12).</summary>
public sealed partial class KernelProtocol
{
    /// <summary>
    /// The kernel route wanted for <paramref name="prefix"/> whose table entry is <paramref name="entry"/>
    /// (null or empty when it has no route): the best route (not one we learned ourselves) through the
    /// export filter, merged with equally good BGP paths under <c>merge paths</c>.
    /// </summary>
    private KernelRouteSpec? ComputeDesired(Prefix prefix, RouteEntry? entry)
    {
        if (!_options.Handles(prefix))
            return null;
        var best = entry?.Best;
        if (entry is null || best is null || ReferenceEquals(best.Protocol, this))
            return null;
        var exported = _options.ExportFilter.Apply(best, Table.Attributes);
        if (exported is null)
        {
            if (Trace.Filters.IsEnabled(LogLevel.Debug))
                Trace.Filters.LogDebug(ProtocolEvents.ExportFiltered, "{Protocol} < filtered out {Prefix}", Name, prefix);
            return null;
        }
        var a = exported.Attributes;
        if (!_options.MergePaths || a.Dest != RouteDest.Router || entry.Count < 2)
            return KernelRouteMapper.Map(prefix, a, _links, KernelTable, _options.DeviceRoutes);
        return KernelRouteMapper.MapMerged(prefix, entry, a, new MergeContext(_options.ExportFilter, Table.Attributes, this, _links, KernelTable, Math.Max(1, _options.MergePathsLimit)), _mergeHops);
    }

    // The next hops of the prefix being merged, reused (ComputeDesired runs on the loop only).
    private readonly ImmutableArray<KernelNextHop>.Builder _mergeHops = ImmutableArray.CreateBuilder<KernelNextHop>();

    /// <summary>
    /// Adds the writes that take the kernel from its route for <paramref name="prefix"/> to the one
    /// wanted for the table's <paramref name="entry"/> of it.
    /// </summary>
    private int Plan(Prefix prefix, RouteEntry? entry, List<RouteChange> changes, bool prune)
    {
        var desired = ComputeDesired(prefix, entry);
        _installed.TryGetValue(prefix, out var actual);
        if (desired is null)
        {
            var wasWanted = _desired.Remove(prefix);
            // While graceful-restart recovery holds, only routes withdrawn in this run go; the rest wait.
            if (actual is not null && prune && (_pruneAllowed || wasWanted))
            {
                changes.Add(RouteChange.Delete(actual));
                if (wasWanted)
                {
                    Stats.CountExportWithdrawReceived();
                    Stats.CountExportWithdraw();
                }
                return 1;
            }
            return 0;
        }
        _desired[prefix] = desired;
        if (actual is not null && desired.Matches(actual))
            return 0;
        Stats.CountExportUpdate(true);
        if (actual is null)
        {
            changes.Add(RouteChange.Add(desired));
        }
        else if (actual.EffectiveMetric != desired.EffectiveMetric)
        {
            // The metric is part of the kernel's key: a new metric is a new route, the old one goes.
            changes.Add(RouteChange.Delete(actual));
            changes.Add(RouteChange.Add(desired));
        }
        else
        {
            changes.Add(RouteChange.Replace(desired));
        }
        return 1;
    }

    /// <summary>Removes routes of ours that nothing wants (after the first feed, or when recovery ends).</summary>
    private async Task PruneAsync(CancellationToken ct)
    {
        await FinishWriteAsync().ConfigureAwait(false);
        var stale = _installed.Where(kv => !_desired.ContainsKey(kv.Key)).Select(kv => RouteChange.Delete(kv.Value)).ToList();
        if (stale.Count == 0)
            return;
        _log.LogInformation("{Protocol}: pruning {Count} routes of ours no longer wanted", Name, stale.Count);
        KernelDeleteOrder.Scatter(stale);
        await ApplyAsync(stale, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Re-reads links and the kernel table, then repairs every difference (BIRD's <c>krt_scan</c>).
    /// The journal keeps what we want (<c>_desired</c>) current, so a prefix whose wanted route
    /// matches the one read back needs no new plan; only the others are planned again from the table
    /// (all of them when interfaces were renamed or renumbered, which changes what is wanted).
    /// </summary>
    private async Task ScanAsync(CancellationToken ct)
    {
        Counters.CountScan();
        // A journal batch in flight: its results in before the table read back is compared with the view.
        await FinishWriteAsync().ConfigureAwait(false);
        var links = _links;
        // The device protocol's shared list (the daemon wires it) is kept current by its link and
        // address notifications: taken as it is, as BIRD's kernel protocol uses the global interface
        // list, instead of three dumps and an object per interface at every scan. Read here only
        // while there is none yet (the device protocol not started).
        _links = _interfaceSource?.Interfaces is { Interfaces.IsEmpty: false } shared
            ? shared
            : await InterfaceSnapshot.LoadAsync(_netlink!, ct).ConfigureAwait(false);
        await ReadKernelAsync(ct).ConfigureAwait(false);
        var replanAll = !links.SameIndexesAndNames(_links);
        var plan = _scanPlan;
        plan.Clear();
        foreach (var (p, desired) in _desired)
        {
            if (replanAll || _retry.Contains(p) || !_installed.TryGetValue(p, out var actual) || !desired.Matches(actual))
                plan.Add(p);
        }
        foreach (var p in _installed.Keys)
        {
            if (!_desired.ContainsKey(p))
                plan.Add(p);
        }
        foreach (var p in _retry)
        {
            if (!_desired.ContainsKey(p) && !_installed.ContainsKey(p))
                plan.Add(p);
        }
        var retries = _retry.Count;
        _scanRetries.Clear();
        _scanRetries.UnionWith(_retry);
        _retry.Clear();
        var changes = _changes;
        changes.Clear();
        var repairs = 0;
        foreach (var p in plan)
        {
            // A prefix whose last write failed is a retry, not drift.
            if (Plan(p, Table.Find(p), changes, prune: true) > 0 && !_scanRetries.Contains(p))
                repairs++;
        }
        plan.Clear();
        _scanRetries.Clear();
        if (retries > 0)
            _log.LogInformation("{Protocol}: retrying {Count} routes the kernel refused before", Name, retries);
        if (repairs > 0)
        {
            Counters.CountRepairs(repairs);
            _log.LogInformation("{Protocol}: scan found {Count} routes differing from the table; repairing", Name, repairs);
        }
        await ApplyAsync(changes, ct).ConfigureAwait(false);
    }

    /// <summary>Sends a batch and takes in each result: the view follows successes; failures are logged, counted and retried.</summary>
    private async Task ApplyAsync(List<RouteChange> changes, CancellationToken ct)
    {
        await FinishWriteAsync().ConfigureAwait(false);
        if (changes.Count == 0)
            return;
        TakeResults(changes, await _netlink!.ApplyAsync(changes, ct).ConfigureAwait(false));
    }

    /// <summary>Takes in the kernel's answers to <paramref name="changes"/>: the view follows successes; failures are logged, counted and retried.</summary>
    private void TakeResults(List<RouteChange> changes, NetlinkResult[] results)
    {
        Counters.CountWrites(changes.Count);
        // Asked once per batch, not per route: a class logger's check is not free at 100,000 routes.
        var trace = Trace.Routes.IsEnabled(LogLevel.Debug);
        for (var i = 0; i < changes.Count; i++)
        {
            var c = changes[i];
            var r = results[i];
            var p = c.Route.Prefix;
            // Deleting what is already gone (ESRCH) reached the goal all the same.
            if (r.IsOk || (c.Kind == RouteChangeKind.Delete && r.Errno == Errno.Esrch))
            {
                if (c.Kind == RouteChangeKind.Delete)
                    _installed.Remove(p);
                else
                    _installed[p] = c.Route;
                // BIRD's "<" lines of routes written to the kernel: the change as sent (add, replace, delete).
                if (trace)
                    Trace.Routes.LogDebug(c.Kind == RouteChangeKind.Delete ? ProtocolEvents.RouteExportWithdrawn : ProtocolEvents.RouteExported, "{Protocol} < {Change}", Name, c);
                continue;
            }
            Counters.CountError(r.Errno);
            _retry.Add(p);
            _log.LogWarning("{Protocol}: kernel refused to {Change}: {Error}", Name, c, r);
        }
        Counters.SetInstalled(_installed.Count);
        Stats.AddExported(_desired.Count - Stats.Exported);
    }
}
