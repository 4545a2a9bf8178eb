using System.Collections.Immutable;
using Calico.Bgp.Fib.Interfaces;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Fib.Kernel;

/// <summary>
/// Reading the kernel table: our own routes (the actual state) and alien ones (<c>learn</c>). A dump
/// is compared in place with the routes held from the last one (<see cref="RouteFields.SameAs"/>):
/// an unchanged route keeps its object, so a scan of an unchanged table allocates nothing per route,
/// and an unchanged alien route is not imported again.
/// </summary>
public sealed partial class KernelProtocol
{
    // Owned by the loop. Our routes are read into the view's slots in place, each marked with the
    // dump's stamp of its family (a slot not marked after the dump lost its route). Alien routes fill
    // the *Read dictionary, which then changes places with the held one; the dictionaries keep their
    // storage, so a steady table reuses it scan after scan.
    private int _readV4;
    private int _readV6;
    private Dictionary<Prefix, KernelRouteSpec> _aliens = [];
    private Dictionary<Prefix, KernelRouteSpec> _aliensRead = [];
    private readonly List<Prefix> _gone = [];
    // The interfaces the learned routes were last mapped with (a route names its device by index).
    private InterfaceSnapshot? _learnedWith;
    private bool _readingV6;
    private DumpSink? _dumpSink;

    /// <summary>Reads the kernel's routes of the families this instance handles (one dump per family) as the actual state.</summary>
    private async Task ReadKernelAsync(CancellationToken ct)
    {
        _dumpSink ??= new DumpSink(this);
        _aliensRead.Clear();
        var v4 = _options.BothFamilies || !_options.Ipv6;
        var v6 = _options.BothFamilies || _options.Ipv6;
        if (v4)
        {
            _readingV6 = false;
            _readV4 = NextStamp();
            await _netlink!.DumpRoutesAsync(false, _dumpSink, ct).ConfigureAwait(false);
        }
        if (v6)
        {
            _readingV6 = true;
            _readV6 = NextStamp();
            await _netlink!.DumpRoutesAsync(true, _dumpSink, ct).ConfigureAwait(false);
        }
        // Our routes of a dumped family that the dump did not give are gone from the kernel.
        foreach (var (p, slot) in _view)
        {
            if (slot.Installed is null || slot.Read == (p.IsV6 ? _readV6 : _readV4) || !(p.IsV6 ? v6 : v4))
                continue;
            ref var gone = ref _view.Find(p);
            _view.SetInstalled(ref gone, null);
            // Removing while enumerating is allowed for Dictionary (it does not invalidate the enumerator).
            if (gone.Desired is null)
                _view.Remove(p);
        }
        Counters.SetInstalled(_view.InstalledCount);
        (_aliens, _aliensRead) = (_aliensRead, _aliens);
        if (_options.Learn)
            SyncLearned(previous: _aliensRead);
        _aliensRead.Clear();
    }

    /// <summary>One route of the dump: ours, an alien one, or one neither kept nor learned.</summary>
    private void OnKernelRoute(in RouteFields r, ReadOnlySpan<KernelNextHop> hops)
    {
        if (r.Table != KernelTable || (r.Flags & Rtnl.RtmFCloned) != 0 || !_options.Handles(r.Prefix))
            return;
        if (r.Protocol == Rtnl.ProtoBird)
            KeepInstalled(r, hops);
        else if (_options.Learn && r.Protocol != Rtnl.ProtoKernel && r.Type is KernelRouteType.Unicast or KernelRouteType.Blackhole or KernelRouteType.Unreachable or KernelRouteType.Prohibit)
            KernelRouteMapper.Keep(_aliensRead, _aliens, r, hops);
    }

    /// <summary>
    /// Our route of the dump into its slot, one route per prefix: the first listed (the lowest
    /// metric, the one the kernel uses, as BIRD keeps one), with IPv6 multipath siblings listed apart
    /// joined back into one (as <see cref="KernelRouteMapper.Keep"/>). The route held from before
    /// stands for it when nothing in it changed, so an unchanged route allocates nothing.
    /// </summary>
    private void KeepInstalled(in RouteFields r, ReadOnlySpan<KernelNextHop> hops)
    {
        var stamp = _readingV6 ? _readV6 : _readV4;
        ref var slot = ref _view.GetOrAdd(r.Prefix);
        if (slot.Read == stamp)
        {
            if (slot.Installed is { } first && KernelRouteMapper.JoinSiblings(first, r.ToSpec(hops)) is { } joined)
                _view.SetInstalled(ref slot, joined);
            return;
        }
        slot.Read = stamp;
        var held = slot.Installed;
        _view.SetInstalled(ref slot, held is not null && r.SameAs(held, hops) ? held : r.ToSpec(hops));
    }

    /// <summary>An interrupted dump starts over: what it gave of this family so far is dropped.</summary>
    private void OnKernelDumpRestart()
    {
        // Our routes: a new stamp, so the routes marked so far count as unread again.
        if (_readingV6)
            _readV6 = NextStamp();
        else
            _readV4 = NextStamp();
        foreach (var p in _aliensRead.Keys)
        {
            // Removing while enumerating is allowed for Dictionary (it does not invalidate the enumerator).
            if (p.IsV6 == _readingV6)
                _aliensRead.Remove(p);
        }
    }

    /// <summary>
    /// Brings the table's learned routes in line with the alien kernel routes (BIRD's scan of alien
    /// routes). A multipath route is learned as one path per next hop (path ids 1…n), so all of its
    /// next hops stay in the table; a single-path route is path 0. A route read back the same as last
    /// time (the same object) with the same interfaces is skipped: it was taken in then.
    /// </summary>
    private void SyncLearned(Dictionary<Prefix, KernelRouteSpec> previous)
    {
        var sameLinks = _learnedWith is { } before && before.SameIndexesAndNames(_links);
        _learnedWith = _links;
        foreach (var (prefix, k) in _aliens)
        {
            if (sameLinks && previous.TryGetValue(prefix, out var was) && ReferenceEquals(was, k))
                continue;
            Learn(prefix, k);
        }
        _gone.Clear();
        foreach (var p in _learned.Keys)
        {
            if (!_aliens.ContainsKey(p))
                _gone.Add(p);
        }
        foreach (var gone in _gone)
        {
            var (old, kept) = _learned[gone];
            _learned.Remove(gone);
            for (var i = 0; i < old.Length; i++)
                Stats.CountImportWithdraw(Table.Withdraw(gone, this, PathId(i, old.Length)));
            Stats.AddImported(-kept);
            TraceLearnedGone(gone);
        }
        _gone.Clear();
        Counters.SetLearned(_learned.Count);
    }

    /// <summary>Takes one alien route (new or changed) into the table, path by path through the import filter.</summary>
    private void Learn(Prefix prefix, KernelRouteSpec k)
    {
        var paths = KernelRouteMapper.ToLearnedPaths(k, _links);
        var interned = ImmutableArray.CreateBuilder<PathAttributes>(paths.Length);
        foreach (var p in paths)
            interned.Add(Table.Attributes.Intern(p));
        var now = interned.MoveToImmutable();
        _learned.TryGetValue(prefix, out var learned);
        var old = learned.Paths;
        if (!old.IsDefault && old.Length == now.Length && old.Zip(now).All(x => ReferenceEquals(x.First, x.Second)))
            return;
        var kept = 0;
        var keptIds = new HashSet<uint>();
        for (var i = 0; i < now.Length; i++)
        {
            var pathId = PathId(i, now.Length);
            var accepted = _options.ImportFilter.Apply(Route.Create(prefix, now[i], this, pathId), Table.Attributes);
            Stats.CountImportUpdate(accepted is not null);
            if (accepted is null)
            {
                if (Trace.Filters.IsEnabled(LogLevel.Debug))
                    Trace.Filters.LogDebug(ProtocolEvents.ImportFiltered, "{Protocol} > filtered out {Prefix}", Name, prefix);
                continue;
            }
            Table.Update(accepted);
            if (Trace.Routes.IsEnabled(LogLevel.Debug))
                Trace.Routes.LogDebug(ProtocolEvents.RouteImported, "{Protocol} > learned {Prefix} via {Via}", Name, prefix, (object?)accepted.Attributes.Gateway ?? accepted.Attributes.Interface);
            keptIds.Add(pathId);
            kept++;
        }
        for (var i = 0; !old.IsDefault && i < old.Length; i++)
        {
            var id = PathId(i, old.Length);
            if (!keptIds.Contains(id) && Table.Withdraw(prefix, this, id))
            {
                Stats.CountImportWithdraw(true);
                TraceLearnedGone(prefix);
            }
        }
        Stats.AddImported(kept - learned.Kept);
        if (kept == 0)
            _learned.Remove(prefix);
        else
            _learned[prefix] = (now, kept);
    }

    private void TraceLearnedGone(Prefix prefix)
    {
        if (Trace.Routes.IsEnabled(LogLevel.Debug))
            Trace.Routes.LogDebug(ProtocolEvents.RouteWithdrawn, "{Protocol} > removed {Prefix}", Name, prefix);
    }

    /// <summary>Path i of n learned paths: 0 for a single path, 1…n for the next hops of a multipath route.</summary>
    private static uint PathId(int i, int count) => count == 1 ? 0u : (uint)(i + 1);

    /// <summary>Forgets the alien routes read so far (on stop: the learned routes leave the table, a restart learns anew).</summary>
    private void ForgetAliens()
    {
        _aliens.Clear();
        _learnedWith = null;
    }

    /// <summary>Hands the routes of a streamed dump to the protocol (kept apart so the protocol's own API stays as it is).</summary>
    private sealed class DumpSink(KernelProtocol owner) : IRouteDumpSink
    {
        public void OnRoute(in RouteFields route, ReadOnlySpan<KernelNextHop> hops) => owner.OnKernelRoute(route, hops);

        public void Restart() => owner.OnKernelDumpRestart();
    }
}
