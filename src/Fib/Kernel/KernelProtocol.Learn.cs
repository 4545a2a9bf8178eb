using System.Collections.Immutable;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Fib.Kernel;

/// <summary>Reading the kernel table: our own routes (the actual state) and alien ones (<c>learn</c>).</summary>
public sealed partial class KernelProtocol
{
    /// <summary>Takes a dump as the actual state: our routes, and (with learn) the alien ones.</summary>
    private void TakeKernelView(IReadOnlyList<KernelRouteSpec> kernel)
    {
        _installed.Clear();
        var aliens = new Dictionary<Prefix, KernelRouteSpec>();
        foreach (var r in kernel)
        {
            if (r.Table != KernelTable || (r.Flags & Rtnl.RtmFCloned) != 0 || !_options.Handles(r.Prefix))
                continue;
            if (r.Protocol == Rtnl.ProtoBird)
                Keep(_installed, r);
            else if (r.Protocol != Rtnl.ProtoKernel && r.Type is KernelRouteType.Unicast or KernelRouteType.Blackhole or KernelRouteType.Unreachable or KernelRouteType.Prohibit)
                Keep(aliens, r);
        }
        Counters.SetInstalled(_installed.Count);
        if (_options.Learn)
            SyncLearned(aliens);
    }

    /// <summary>
    /// One route per prefix: the first listed (the lowest metric, the one the kernel uses, as BIRD
    /// keeps one), with IPv6 multipath siblings listed apart joined back into one.
    /// </summary>
    private static void Keep(Dictionary<Prefix, KernelRouteSpec> into, KernelRouteSpec r)
    {
        if (!into.TryGetValue(r.Prefix, out var first))
            into[r.Prefix] = r;
        else if (KernelRouteMapper.JoinSiblings(first, r) is { } joined)
            into[r.Prefix] = joined;
    }

    /// <summary>
    /// Brings the table's learned routes in line with the alien kernel routes (BIRD's scan of alien
    /// routes). A multipath route is learned as one path per next hop (path ids 1…n), so all of its
    /// next hops stay in the table; a single-path route is path 0.
    /// </summary>
    private void SyncLearned(Dictionary<Prefix, KernelRouteSpec> aliens)
    {
        foreach (var (prefix, k) in aliens)
        {
            var paths = KernelRouteMapper.ToLearnedPaths(k, _links);
            var interned = ImmutableArray.CreateBuilder<PathAttributes>(paths.Length);
            foreach (var p in paths)
                interned.Add(Table.Attributes.Intern(p));
            var now = interned.MoveToImmutable();
            _learned.TryGetValue(prefix, out var learned);
            var old = learned.Paths;
            if (!old.IsDefault && old.Length == now.Length && old.Zip(now).All(x => ReferenceEquals(x.First, x.Second)))
                continue;
            var kept = 0;
            var keptIds = new HashSet<uint>();
            for (var i = 0; i < now.Length; i++)
            {
                var pathId = now.Length == 1 ? 0u : (uint)(i + 1);
                var accepted = _options.ImportFilter.Apply(new Route(prefix, now[i], this, pathId), Table.Attributes);
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
            var before = old.IsDefault ? [] : PathIds(old.Length);
            foreach (var id in before.Where(id => !keptIds.Contains(id)))
            {
                if (Table.Withdraw(prefix, this, id))
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
        foreach (var gone in _learned.Keys.Where(p => !aliens.ContainsKey(p)).ToList())
        {
            var (old, kept) = _learned[gone];
            _learned.Remove(gone);
            foreach (var id in PathIds(old.Length))
                Stats.CountImportWithdraw(Table.Withdraw(gone, this, id));
            Stats.AddImported(-kept);
            TraceLearnedGone(gone);
        }
        Counters.SetLearned(_learned.Count);
    }

    private void TraceLearnedGone(Prefix prefix)
    {
        if (Trace.Routes.IsEnabled(LogLevel.Debug))
            Trace.Routes.LogDebug(ProtocolEvents.RouteWithdrawn, "{Protocol} > removed {Prefix}", Name, prefix);
    }

    private static uint[] PathIds(int count) => count == 1 ? [0u] : [.. Enumerable.Range(1, count).Select(i => (uint)i)];
}
