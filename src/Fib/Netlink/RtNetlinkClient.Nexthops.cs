using System.Buffers;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Fib.Netlink;

/// <summary>
/// Nexthop objects (Linux 5.3): routes through the same gateways name one shared object instead of
/// carrying their gateways (<see cref="NexthopRegistry"/>). What the routes look like to everyone
/// else is the same (a dump and <c>ip route</c> show the gateways, <c>ip route</c> adds
/// <c>nhid N</c>); only the kernel's work per route is less.
/// </summary>
public sealed partial class RtNetlinkClient
{
    /// <summary>A route waiting for its nexthop object to be created (or its gateway's device found).</summary>
    private const uint Missing = uint.MaxValue;

    private NexthopRegistry? _nexthops;
    private bool _nexthopsLoaded;
    // The nexthop dump's list, reused (under the gate): a scan reads every object in the namespace.
    private readonly List<NexthopInfo> _nexthopsRead = [];

    /// <summary>
    /// Whether routes are written naming nexthop objects: true once the kernel's objects were read
    /// (it has them), false when not asked for or the kernel has none, null before the first write.
    /// </summary>
    public bool? NexthopObjectsInUse => _nexthops is null ? false : _nexthopsLoaded ? true : null;

    /// <summary>Our nexthop objects known now (read back at each scan, and those created since).</summary>
    public int NexthopObjectCount => _nexthops?.Count ?? 0;

    /// <summary>
    /// The nexthop object each change's route names (0: written with its own next hops), creating the
    /// objects that are missing first, so that every route of the batch finds its object in place:
    /// the kernel takes the requests of a sendmsg in order, but an object that failed to be created
    /// must not be named, so objects go in a round trip of their own (rare: a new gateway or group).
    /// Null when the kernel has no nexthop objects. Under the gate; the array is rented.
    /// </summary>
    private async Task<uint[]?> PlanNexthopsAsync(IReadOnlyList<RouteChange> changes, NetlinkWriter writer, byte[] buffer, CancellationToken ct)
    {
        if (!await EnsureNexthopsAsync(ct).ConfigureAwait(false))
            return null;
        var registry = _nexthops!;
        var ids = ArrayPool<uint>.Shared.Rent(changes.Count);
        var missing = false;
        for (var i = 0; i < changes.Count; i++)
        {
            var c = changes[i];
            ids[i] = 0;
            if (c.Kind == RouteChangeKind.Delete)
                continue;
            switch (registry.Find(c.Route, out var id))
            {
                case NexthopLookup.Found:
                    ids[i] = id;
                    break;
                case NexthopLookup.NeedsDevice:
                case NexthopLookup.NeedsCreate:
                    ids[i] = Missing;
                    missing = true;
                    break;
            }
        }
        if (!missing)
            return ids;
        await ResolveDevicesAsync(changes, ids, writer, buffer, ct).ConfigureAwait(false);
        await CreateSinglesAsync(changes, ids, writer, buffer, ct).ConfigureAwait(false);
        await CreateGroupsAsync(changes, ids, writer, buffer, ct).ConfigureAwait(false);
        for (var i = 0; i < changes.Count; i++)
        {
            // What still has no object (it failed to be created, or its gateway is on no link) is written as before.
            if (ids[i] == Missing)
                ids[i] = registry.Find(changes[i].Route, out var id) == NexthopLookup.Found ? id : 0;
        }
        return ids;
    }

    /// <summary>
    /// Reads the nexthop objects once, before the first write (a restart names the objects its routes
    /// already use); false, and nexthop objects are not used, when the kernel has none (before 5.3).
    /// </summary>
    private async Task<bool> EnsureNexthopsAsync(CancellationToken ct)
    {
        if (_nexthops is null)
            return false;
        if (_nexthopsLoaded)
            return true;
        try
        {
            _nexthops.Rebuild(await ReadNexthopsAsync(ct).ConfigureAwait(false));
            _nexthopsLoaded = true;
            return true;
        }
        catch (NetlinkException e) when (e.Errno is Errno.Eopnotsupp or Errno.Einval or Errno.Eafnosupport or Errno.Enoent)
        {
            _nexthops = null;
            return false;
        }
    }

    /// <summary>
    /// Every nexthop object in the namespace, in a list reused from scan to scan (valid until the next
    /// read). Called under the gate (the dump takes the socket, not the gate).
    /// </summary>
    private async Task<List<NexthopInfo>> ReadNexthopsAsync(CancellationToken ct)
    {
        var all = _nexthopsRead;
        all.Clear();
        await DumpUngatedAsync(
            static (w, seq) => NexthopMessage.WriteDumpRequest(w, seq),
            static (payload, list) =>
            {
                if (NexthopMessage.TryParse(payload, out var n))
                    list.Add(n);
            },
            all,
            static l => l.Clear(),
            ct).ConfigureAwait(false);
        return all;
    }

    /// <summary>
    /// Asks the kernel which device each gateway without one is on (the FIB route it matches, as the
    /// kernel finds it for a route written without a device): a connected route gives it; anything
    /// else leaves the gateway's routes written inline, where the kernel answers as it always did.
    /// </summary>
    private async Task ResolveDevicesAsync(IReadOnlyList<RouteChange> changes, uint[] ids, NetlinkWriter writer, byte[] buffer, CancellationToken ct)
    {
        var registry = _nexthops!;
        var gateways = MissingHops(changes, ids).Where(h => h.Device == 0 && !h.Onlink && !registry.KnowsDevice(h.Gateway)).Select(h => h.Gateway).Distinct().ToList();
        if (gateways.Count == 0)
            return;
        // Unanswered (a timeout) stays unknown; found nothing (an error answer) is device 0.
        // A few hundred per sendmsg: each is answered with a whole route, and the answers must fit the socket's buffer.
        foreach (var chunk in gateways.Chunk(LookupChunk))
        {
            var devices = new int?[chunk.Length];
            writer.Clear();
            var first = _socket.ReserveSequence(chunk.Length);
            for (var i = 0; i < chunk.Length; i++)
                RouteMessage.WriteLookup(writer, chunk[i], first + (uint)i);
            await _socket.SendAsync(writer.Written, ct).ConfigureAwait(false);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(ReplyTimeout);
            var answered = 0;
            while (answered < chunk.Length)
            {
                var n = await _socket.ReceiveAsync(buffer, timeout.Token).ConfigureAwait(false);
                answered += TakeLookups(buffer.AsSpan(0, n), first, devices);
            }
            for (var i = 0; i < chunk.Length; i++)
                registry.SetDevice(chunk[i], devices[i] ?? 0);
        }
    }

    private const int LookupChunk = 256;

    /// <summary>Takes in one datagram of lookup answers; returns how many requests it answered.</summary>
    private static int TakeLookups(ReadOnlySpan<byte> datagram, uint first, int?[] devices)
    {
        var answered = 0;
        foreach (var m in new NetlinkMessageReader(datagram))
        {
            var i = unchecked(m.Sequence - first);
            if (i >= (uint)devices.Length || devices[i] is not null)
                continue;
            if (m.Type == Nl.Error)
            {
                devices[i] = 0;
                answered++;
            }
            else if (m.Type == Rtnl.NewRoute)
            {
                // On a link: a unicast route with a device and no gateway of its own (a connected subnet).
                var onLink = RouteMessage.TryParse(m.Payload, out var r, out var multipath)
                    && r.Type == KernelRouteType.Unicast && r.Gateway is null && multipath.IsEmpty && r.NexthopId == 0 && r.Scope == Rtnl.ScopeLink;
                devices[i] = onLink ? r.OutInterfaceIndex : 0;
                answered++;
            }
        }
        return answered;
    }

    /// <summary>Creates the single-gateway objects the missing routes need (each once).</summary>
    private async Task CreateSinglesAsync(IReadOnlyList<RouteChange> changes, uint[] ids, NetlinkWriter writer, byte[] buffer, CancellationToken ct)
    {
        var registry = _nexthops!;
        var keys = MissingHops(changes, ids).Select(h => registry.KeyOf(h.Gateway, h.Device, h.Onlink)).OfType<NexthopKey>().Where(k => !registry.HasSingle(k)).Distinct().ToList();
        if (keys.Count == 0)
            return;
        var newIds = new uint[keys.Count];
        for (var i = 0; i < keys.Count; i++)
            newIds[i] = registry.NextId();
        var results = await WriteRequestsAsync(keys.Count, (w, i, seq) => NexthopMessage.WriteAdd(w, newIds[i], keys[i].Gateway, keys[i].InterfaceIndex, keys[i].Onlink, seq), writer, buffer, ct).ConfigureAwait(false);
        for (var i = 0; i < keys.Count; i++)
        {
            if (results[i].IsOk)
                registry.AddSingle(newIds[i], keys[i]);
        }
    }

    /// <summary>Creates the groups the missing multipath routes need, once their members exist.</summary>
    private async Task CreateGroupsAsync(IReadOnlyList<RouteChange> changes, uint[] ids, NetlinkWriter writer, byte[] buffer, CancellationToken ct)
    {
        var registry = _nexthops!;
        var groups = new List<NexthopGroupMember[]>();
        for (var i = 0; i < changes.Count; i++)
        {
            if (ids[i] != Missing || !changes[i].Route.IsMultipath)
                continue;
            if (registry.GroupMembers(changes[i].Route) is { } members && !registry.HasGroup(members) && !groups.Exists(g => g.AsSpan().SequenceEqual(members)))
                groups.Add(members);
        }
        if (groups.Count == 0)
            return;
        var newIds = new uint[groups.Count];
        for (var i = 0; i < groups.Count; i++)
            newIds[i] = registry.NextId();
        var results = await WriteRequestsAsync(groups.Count, (w, i, seq) => NexthopMessage.WriteAddGroup(w, newIds[i], groups[i], seq), writer, buffer, ct).ConfigureAwait(false);
        for (var i = 0; i < groups.Count; i++)
        {
            if (results[i].IsOk)
                registry.AddGroup(newIds[i], groups[i]);
        }
    }

    /// <summary>The gateways of the routes still without an object (off the hot path: only when one is missing).</summary>
    private static IEnumerable<(IpAddr Gateway, int Device, bool Onlink)> MissingHops(IReadOnlyList<RouteChange> changes, uint[] ids)
    {
        for (var i = 0; i < changes.Count; i++)
        {
            if (ids[i] != Missing)
                continue;
            foreach (var hop in Hops(changes[i].Route))
                yield return hop;
        }
    }

    /// <summary>The gateways of a route's next hops: the route's own, or each hop's of a multipath route.</summary>
    private static IEnumerable<(IpAddr Gateway, int Device, bool Onlink)> Hops(KernelRouteSpec route)
    {
        if (route.Type != KernelRouteType.Unicast)
            yield break;
        if (!route.IsMultipath)
        {
            if (route.Gateway is { } gw)
                yield return (gw, route.OutInterfaceIndex, route.Onlink);
            yield break;
        }
        foreach (var h in route.NextHops)
        {
            if (h.Gateway is { } g)
                yield return (g, h.InterfaceIndex, h.Onlink);
        }
    }

    /// <summary>
    /// Reads our nexthop objects back from the kernel (a scan's first step): one removed or changed by
    /// someone else is then never named again (a group that lost a member is known by what it holds
    /// now), and the objects' use is counted afresh by the scan's route dump and writes.
    /// </summary>
    public async Task SyncNexthopsAsync(CancellationToken cancellationToken)
    {
        if (_nexthops is null)
            return;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The first time, the read that loads them is this one.
            if (_nexthopsLoaded)
                _nexthops.Rebuild(await ReadNexthopsAsync(cancellationToken).ConfigureAwait(false));
            else
                await EnsureNexthopsAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Removes our nexthop objects that no route read since <see cref="SyncNexthopsAsync"/> names and
    /// no write since then used (a scan's last step); returns how many went.
    /// </summary>
    public async Task<int> PruneNexthopsAsync(CancellationToken cancellationToken)
    {
        if (_nexthops is null || !_nexthopsLoaded)
            return 0;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var unused = _nexthops.Unused();
            if (unused.Count == 0)
                return 0;
            using var writer = new NetlinkWriter(BatchBytes + 4096);
            var buffer = NetlinkSocket.RentReceiveBuffer();
            try
            {
                var results = await WriteRequestsAsync(unused.Count, (w, i, seq) => NexthopMessage.WriteDelete(w, unused[i], seq), writer, buffer, cancellationToken).ConfigureAwait(false);
                var removed = 0;
                for (var i = 0; i < unused.Count; i++)
                {
                    // Gone already (ENOENT) is gone all the same.
                    if (results[i].IsOk || results[i].Errno == Errno.Enoent)
                    {
                        _nexthops.Forget(unused[i]);
                        removed++;
                    }
                }
                return removed;
            }
            finally
            {
                NetlinkSocket.ReturnReceiveBuffer(buffer);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// On stop, after our routes were removed: reads the objects and both families' routes back and
    /// removes the objects of ours no route names any more.
    /// </summary>
    public async Task<int> RemoveUnusedNexthopsAsync(CancellationToken cancellationToken)
    {
        if (_nexthops is null || !_nexthopsLoaded)
            return 0;
        await SyncNexthopsAsync(cancellationToken).ConfigureAwait(false);
        var sink = new NullSink();
        await DumpRoutesAsync(false, sink, cancellationToken).ConfigureAwait(false);
        await DumpRoutesAsync(true, sink, cancellationToken).ConfigureAwait(false);
        return await PruneNexthopsAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A dump read only for the nexthop objects its routes name.</summary>
    private sealed class NullSink : IRouteDumpSink
    {
        public void OnRoute(in RouteFields route, ReadOnlySpan<KernelNextHop> hops)
        {
        }

        public void Restart()
        {
        }
    }
}
