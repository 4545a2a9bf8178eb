using System.Collections.Immutable;
using System.Runtime.CompilerServices;
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
        return KernelRouteMapper.MapMerged(prefix, entry, a, new MergeContext(_options.ExportFilter, Table.Attributes, this, _links, KernelTable, Math.Max(1, _options.MergePathsLimit)), _mergeHops, ref _lastMergedHops);
    }

    // The hop array of the last merged route, shared with the next one when its hops are the same (loop only).
    private ImmutableArray<KernelNextHop> _lastMergedHops;

    // The next hops of the prefix being merged, reused (ComputeDesired runs on the loop only).
    private readonly ImmutableArray<KernelNextHop>.Builder _mergeHops = ImmutableArray.CreateBuilder<KernelNextHop>();

    /// <summary>
    /// Adds the writes that take the kernel from its route for <paramref name="prefix"/> to the one
    /// wanted for the table's <paramref name="entry"/> of it (outside a batch: the scan's repairs).
    /// </summary>
    private int Plan(Prefix prefix, RouteEntry? entry, List<RouteChange> changes) =>
        Plan(ref _view.Find(prefix), prefix, entry, changes, stamp: 0);

    /// <summary>
    /// <see cref="Plan(Prefix, RouteEntry?, List{RouteChange})"/> on the prefix's slot found already
    /// (<paramref name="found"/>, a null reference when it has none), so a step looks the prefix up
    /// once. A <paramref name="stamp"/> other than 0 marks the slot as planned by that batch or
    /// resync; a slot left empty is then dropped at the batch's end (<see cref="DropEmptied"/>), not
    /// at once, as the mark says the prefix was seen.
    /// </summary>
    private int Plan(ref KernelViewSlot found, Prefix prefix, RouteEntry? entry, List<RouteChange> changes, int stamp)
    {
        var desired = ComputeDesired(prefix, entry);
        ref var slot = ref found;
        if (Unsafe.IsNullRef(ref slot))
        {
            // Nothing installed, nothing wanted before, nothing wanted now.
            if (desired is null)
                return 0;
            slot = ref _view.GetOrAdd(prefix);
        }
        if (stamp != 0)
            slot.Seen = stamp;
        var actual = slot.Installed;
        if (desired is null)
        {
            var wasWanted = slot.Desired is not null;
            _view.SetDesired(ref slot, null);
            // While graceful-restart recovery holds, only routes withdrawn in this run go; the rest wait.
            if (actual is not null && (_pruneAllowed || wasWanted))
            {
                changes.Add(RouteChange.Delete(actual));
                slot.Pending = true;
                if (wasWanted)
                    _plannedWithdraws++;
                return 1;
            }
            if (actual is null)
            {
                if (stamp == 0)
                    _view.RemoveIfEmpty(prefix);
                else
                    _emptied.Add(prefix);
            }
            return 0;
        }
        _view.SetDesired(ref slot, desired);
        if (actual is not null && desired.Matches(actual))
            return 0;
        _plannedUpdates++;
        slot.Pending = true;
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

    // Export changes planned since the last FlushPlannedStats (the loop's own counts, added to Stats
    // once per batch rather than with interlocked operations per route).
    private long _plannedUpdates;
    private long _plannedWithdraws;

    /// <summary>Adds the export changes planned since the last call to the protocol's statistics (once per batch, resync or scan).</summary>
    private void FlushPlannedStats()
    {
        // The routes exported are the routes wanted in the kernel, counted when planned, as BIRD counts a
        // route exported when its export filter accepts it, not once the kernel has answered the write.
        Stats.AddExported(_view.DesiredCount - Stats.Exported);
        if (_plannedUpdates == 0 && _plannedWithdraws == 0)
            return;
        Stats.AddExportChanges(_plannedUpdates, _plannedWithdraws, _plannedWithdraws);
        _plannedUpdates = 0;
        _plannedWithdraws = 0;
    }

    // Of the batch or resync being planned: slots it left empty (dropped at its end). Reused.
    private readonly List<Prefix> _emptied = [];
    private int _stamp;

    /// <summary>A new mark for a batch, a resync or a dump (never 0, which marks nothing).</summary>
    private int NextStamp()
    {
        _stamp = _stamp == int.MaxValue ? 1 : _stamp + 1;
        return _stamp;
    }

    /// <summary>Drops the slots the batch or resync left with neither route (the prefix was seen, so no mark is needed any more).</summary>
    private void DropEmptied()
    {
        foreach (var p in _emptied)
            _view.RemoveIfEmpty(p);
        _emptied.Clear();
    }

    /// <summary>Removes routes of ours that nothing wants (after the first feed, or when recovery ends).</summary>
    private async Task PruneAsync(CancellationToken ct)
    {
        await FinishWriteAsync().ConfigureAwait(false);
        var stale = new List<RouteChange>();
        foreach (var (_, slot) in _view)
        {
            if (slot.Installed is { } installed && slot.Desired is null)
                stale.Add(RouteChange.Delete(installed));
        }
        if (stale.Count == 0)
            return;
        _log.LogInformation("{Protocol}: pruning {Count} routes of ours no longer wanted", Name, stale.Count);
        KernelDeleteOrder.Scatter(stale);
        await ApplyAsync(stale, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Re-reads links and the kernel table, then repairs every difference (BIRD's <c>krt_scan</c>).
    /// The journal keeps what we want (the view's wanted routes) current, so a prefix whose wanted route
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
            : await InterfaceSnapshot.ReloadAsync(_netlink!, links, _linksCheck, ct).ConfigureAwait(false);
        await _netlink!.SyncNexthopsAsync(ct).ConfigureAwait(false);
        await ReadKernelAsync(ct).ConfigureAwait(false);
        var replanAll = !links.SameIndexesAndNames(_links);
        var plan = _scanPlan;
        plan.Clear();
        var anyRetry = _retry.Count > 0;
        foreach (var (p, slot) in _view)
        {
            if (slot.Desired is { } desired)
            {
                if (replanAll || (anyRetry && _retry.Contains(p)) || slot.Installed is not { } actual || !desired.Matches(actual))
                    plan.Add(p);
            }
            else if (slot.Installed is not null)
            {
                plan.Add(p);
            }
        }
        foreach (var p in _retry)
        {
            ref var slot = ref _view.Find(p);
            if (Unsafe.IsNullRef(ref slot) || (slot.Desired is null && slot.Installed is null))
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
            if (Plan(p, Table.Find(p), changes) > 0 && !_scanRetries.Contains(p))
                repairs++;
        }
        plan.Clear();
        _scanRetries.Clear();
        FlushPlannedStats();
        if (retries > 0)
            _log.LogInformation("{Protocol}: retrying {Count} routes the kernel refused before", Name, retries);
        if (repairs > 0)
        {
            Counters.CountRepairs(repairs);
            _log.LogInformation("{Protocol}: scan found {Count} routes differing from the table; repairing", Name, repairs);
        }
        await ApplyAsync(changes, ct).ConfigureAwait(false);
        // Nexthop objects no route read back names, and no write since used (the routes through a gateway are all gone).
        if (await _netlink!.PruneNexthopsAsync(ct).ConfigureAwait(false) is var pruned and > 0 && Trace.Events.IsEnabled(LogLevel.Debug))
            Trace.Events.LogDebug(ProtocolEvents.Scan, "{Protocol}: removed {Count} unused nexthop objects", Name, pruned);
        NoteNexthopObjects();
    }

    /// <summary>Sends a batch and takes in each result: the view follows successes; failures are logged, counted and retried.</summary>
    private async Task ApplyAsync(List<RouteChange> changes, CancellationToken ct)
    {
        await FinishWriteAsync().ConfigureAwait(false);
        if (changes.Count == 0)
            return;
        NetlinkResult[] results;
        try
        {
            results = await _netlink!.ApplyAsync(changes, ct).ConfigureAwait(false);
        }
        catch
        {
            ClearPending(changes);
            throw;
        }
        TakeResults(changes, results);
    }

    /// <summary>A write that failed whole: its prefixes are not waited for any more (the next scan reads back what it did).</summary>
    private void ClearPending(List<RouteChange> changes)
    {
        foreach (var c in changes)
        {
            ref var slot = ref _view.Find(c.Route.Prefix);
            if (!Unsafe.IsNullRef(ref slot))
                slot.Pending = false;
        }
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
                {
                    _view.Uninstall(p);
                }
                else
                {
                    ref var slot = ref _view.GetOrAdd(p);
                    _view.SetInstalled(ref slot, c.Route);
                    slot.Pending = false;
                }
                // BIRD's "<" lines of routes written to the kernel: the change as sent (add, replace, delete).
                if (trace)
                    Trace.Routes.LogDebug(c.Kind == RouteChangeKind.Delete ? ProtocolEvents.RouteExportWithdrawn : ProtocolEvents.RouteExported, "{Protocol} < {Change}", Name, c);
                continue;
            }
            Counters.CountError(r.Errno);
            _retry.Add(p);
            ref var refused = ref _view.Find(p);
            if (!Unsafe.IsNullRef(ref refused))
                refused.Pending = false;
            _log.LogWarning("{Protocol}: kernel refused to {Change}: {Error}", Name, c, r);
        }
        // The exported count follows the wanted routes, in FlushPlannedStats; results do not change it.
        FlushPlannedStats();
        Counters.SetInstalled(_view.InstalledCount);
        NoteNexthopObjects();
    }

    // Whether the log said yet how routes are written (known from the first write on).
    private bool _nexthopModeLogged;

    /// <summary>The count of nexthop objects for metrics, and once, in the log, whether routes name them.</summary>
    private void NoteNexthopObjects()
    {
        if (_netlink is not { } netlink)
            return;
        Counters.SetNexthopObjects(netlink.NexthopObjectCount);
        if (_nexthopModeLogged || netlink.NexthopObjectsInUse is not { } inUse)
            return;
        _nexthopModeLogged = true;
        if (inUse)
            _log.LogInformation("{Protocol}: routes with gateways name kernel nexthop objects (nhid); --inline-nexthops writes them as BIRD does", Name);
        else if (_options.NexthopObjects)
            _log.LogInformation("{Protocol}: the kernel has no nexthop objects; routes carry their own gateways", Name);
    }
}
