using System.Collections.Immutable;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Fib.Netlink;

/// <summary>What one nexthop object of ours holds: a gateway on a device.</summary>
internal readonly record struct NexthopKey(IpAddr Gateway, int InterfaceIndex, bool Onlink);

/// <summary>How a route's next hops stand against the nexthop objects known.</summary>
internal enum NexthopLookup
{
    /// <summary>A nexthop object holds them: the route names it (RTA_NH_ID).</summary>
    Found,
    /// <summary>Not expressible as one (no gateway, a blackhole, a gateway not on a link): written as before.</summary>
    Inline,
    /// <summary>A gateway without a device whose device is not known yet: asked of the kernel first.</summary>
    NeedsDevice,
    /// <summary>Expressible, but no object holds them yet: created first.</summary>
    NeedsCreate,
}

/// <summary>
/// Our nexthop objects (protocol 12) by what they hold, so that every route through the same
/// gateways names one object instead of carrying the gateways itself. With a gateway in each route
/// the kernel builds and checks next hops per route (and allocates and frees their per-CPU caches
/// when the route's fib_info turns out to be shared); naming an object skips all of it, which
/// halves the kernel's time per 4-way ECMP route and cuts a third of it for one gateway
/// (bench/RESULTS-kernel.md). The objects are read back from the kernel at every scan
/// (<see cref="Rebuild"/>), so one removed or changed by someone else is never named again.
/// Owned by <see cref="RtNetlinkClient"/> under its gate.
/// </summary>
internal sealed class NexthopRegistry
{
    /// <summary>
    /// Where our ids start: above those other programs hand out from 1 (iproute2 users, FRR's zebra
    /// keeps its own range); a taken id fails to create (NLM_F_EXCL) and is never reused.
    /// </summary>
    public const uint FirstId = 0x0C00_0000;

    private readonly Dictionary<NexthopKey, uint> _singles = [];
    private readonly Dictionary<NexthopGroupMember[], uint> _groups = new(GroupComparer.Instance);
    private readonly Dictionary<uint, NexthopInfo> _ours = [];
    // Gateways of routes that name no device: the device the kernel's lookup gave (0: none, the
    // gateway is not on a link, so the route is written inline and the kernel answers as it would).
    private readonly Dictionary<IpAddr, int> _devices = [];
    // Ids named by writes or seen in route dumps since the last rebuild: not removed by a prune.
    private readonly HashSet<uint> _used = [];
    private readonly HashSet<uint> _referenced = [];
    private bool _dumpedV4;
    private bool _dumpedV6;
    private uint _nextId = FirstId;
    // The last lookups, hit by nearly every route of a batch (one gateway, or a hop array shared by
    // the mapper's memo): an equality check instead of a hash per route.
    private NexthopKey _lastKey;
    private uint _lastKeyId;
    private ImmutableArray<KernelNextHop> _lastHops;
    private uint _lastHopsId;
    private readonly NexthopGroupMember[] _scratch = new NexthopGroupMember[256];

    public int Count => _ours.Count;

    /// <summary>The nexthop object for <paramref name="route"/>'s next hops (<see cref="NexthopLookup.Found"/>), or what it needs first.</summary>
    public NexthopLookup Find(KernelRouteSpec route, out uint id)
    {
        id = 0;
        if (route.Type != KernelRouteType.Unicast)
            return NexthopLookup.Inline;
        if (!route.IsMultipath)
        {
            if (route.Gateway is not { } gw || gw.IsV6 != route.Prefix.IsV6)
                return NexthopLookup.Inline;
            return FindSingle(gw, route.OutInterfaceIndex, route.Onlink, out id);
        }
        var hops = route.NextHops;
        if (_lastHopsId != 0 && hops == _lastHops)
        {
            id = _lastHopsId;
            return UseId(id);
        }
        if (hops.Length > _scratch.Length)
            return NexthopLookup.Inline;
        var members = _scratch.AsSpan(0, hops.Length);
        var step = FindMembers(route, members);
        if (step != NexthopLookup.Found)
            return step;
        if (!_groups.GetAlternateLookup<ReadOnlySpan<NexthopGroupMember>>().TryGetValue(members, out id))
            return NexthopLookup.NeedsCreate;
        (_lastHops, _lastHopsId) = (hops, id);
        return UseId(id);
    }

    /// <summary>The members a group for <paramref name="route"/> would have, once its singles exist (after <see cref="Find"/> said <see cref="NexthopLookup.NeedsCreate"/>).</summary>
    public NexthopGroupMember[]? GroupMembers(KernelRouteSpec route)
    {
        if (!route.IsMultipath || route.NextHops.Length > _scratch.Length)
            return null;
        var members = new NexthopGroupMember[route.NextHops.Length];
        return FindMembers(route, members) == NexthopLookup.Found ? members : null;
    }

    /// <summary>The object of each of a multipath route's hops, with its weight, into <paramref name="into"/>; the worst of what they need.</summary>
    private NexthopLookup FindMembers(KernelRouteSpec route, Span<NexthopGroupMember> into)
    {
        var worst = NexthopLookup.Found;
        var hops = route.NextHops;
        for (var i = 0; i < hops.Length; i++)
        {
            var h = hops[i];
            if (h.Gateway is not { } gw || gw.IsV6 != route.Prefix.IsV6)
                return NexthopLookup.Inline;
            var step = FindSingle(gw, h.InterfaceIndex, h.Onlink, out var member);
            if (step == NexthopLookup.Inline)
                return step;
            worst = Max(worst, step);
            into[i] = new NexthopGroupMember(member, Math.Clamp(h.Weight, 1, 256));
        }
        return worst;
    }

    /// <summary>The object of one gateway, or what it needs; a gateway without a device goes by the device the kernel gave.</summary>
    private NexthopLookup FindSingle(IpAddr gateway, int device, bool onlink, out uint id)
    {
        id = 0;
        var step = ResolveKey(gateway, device, onlink, out var key);
        if (step != NexthopLookup.Found)
            return step;
        if (_lastKeyId != 0 && key == _lastKey)
        {
            id = _lastKeyId;
            return UseId(id);
        }
        if (!_singles.TryGetValue(key, out id))
            return NexthopLookup.NeedsCreate;
        (_lastKey, _lastKeyId) = (key, id);
        return UseId(id);
    }

    /// <summary>
    /// The key of one gateway: its own device, or for one without, the device the kernel's lookup gave
    /// (<see cref="NexthopLookup.NeedsDevice"/> until asked; <see cref="NexthopLookup.Inline"/> when it is on no link).
    /// </summary>
    private NexthopLookup ResolveKey(IpAddr gateway, int device, bool onlink, out NexthopKey key)
    {
        key = default;
        if (device == 0)
        {
            // An onlink gateway means nothing without its device (the kernel refuses it as well).
            if (onlink)
                return NexthopLookup.Inline;
            if (!_devices.TryGetValue(gateway, out device))
                return NexthopLookup.NeedsDevice;
            if (device == 0)
                return NexthopLookup.Inline;
        }
        key = new NexthopKey(gateway, device, onlink);
        return NexthopLookup.Found;
    }

    private NexthopLookup UseId(uint id)
    {
        // Once per run of routes through the same object, not once per route.
        if (id != _lastUsedId)
        {
            _used.Add(id);
            _lastUsedId = id;
        }
        return NexthopLookup.Found;
    }

    private uint _lastUsedId;

    /// <summary>Whether an object of ours holds <paramref name="key"/>.</summary>
    public bool HasSingle(NexthopKey key) => _singles.ContainsKey(key);

    /// <summary>Whether a group of ours holds <paramref name="members"/>.</summary>
    public bool HasGroup(NexthopGroupMember[] members) => _groups.ContainsKey(members);

    private static NexthopLookup Max(NexthopLookup a, NexthopLookup b) => (NexthopLookup)Math.Max((int)a, (int)b);

    /// <summary>Whether the device of <paramref name="gateway"/> (for routes that name none) was asked already.</summary>
    public bool KnowsDevice(IpAddr gateway) => _devices.ContainsKey(gateway);

    /// <summary>The device a gateway without one resolves to (0: not on a link).</summary>
    public void SetDevice(IpAddr gateway, int device) => _devices[gateway] = device;

    /// <summary>The single key <paramref name="gateway"/> has for a route (its device resolved), or null when it has none.</summary>
    public NexthopKey? KeyOf(IpAddr gateway, int device, bool onlink) =>
        ResolveKey(gateway, device, onlink, out var key) == NexthopLookup.Found ? key : null;

    /// <summary>A fresh id for an object about to be created.</summary>
    public uint NextId() => _nextId == uint.MaxValue ? _nextId = FirstId : _nextId++;

    /// <summary>An object we created.</summary>
    public void AddSingle(uint id, NexthopKey key)
    {
        _singles[key] = id;
        _ours[id] = new NexthopInfo(id, key.Gateway.IsV6 ? Rtnl.AfInet6 : Rtnl.AfInet, Rtnl.ProtoBird, key.Gateway, key.InterfaceIndex, key.Onlink, default);
        _used.Add(id);
    }

    /// <summary>A group we created.</summary>
    public void AddGroup(uint id, NexthopGroupMember[] members)
    {
        _groups[members] = id;
        _ours[id] = new NexthopInfo(id, Rtnl.AfUnspec, Rtnl.ProtoBird, null, 0, false, [.. members]);
        _used.Add(id);
    }

    /// <summary>
    /// Starts over from a dump of every nexthop object: ours (protocol 12, from this run or one
    /// before, so a restart names the objects its routes already use) are known by what they hold
    /// now, ids others hold are skipped; the device lookups and the marks of use start over.
    /// </summary>
    public void Rebuild(IReadOnlyList<NexthopInfo> all)
    {
        _singles.Clear();
        _groups.Clear();
        _ours.Clear();
        _devices.Clear();
        _used.Clear();
        _referenced.Clear();
        _dumpedV4 = _dumpedV6 = false;
        _lastKeyId = _lastHopsId = _lastUsedId = 0;
        _lastHops = default;
        foreach (var n in all)
        {
            if (n.Id >= _nextId && n.Id >= FirstId && n.Id < uint.MaxValue)
                _nextId = n.Id + 1;
            if (n.Protocol != Rtnl.ProtoBird)
                continue;
            _ours[n.Id] = n;
            if (!n.IsGroup && n.Gateway is { } gw && n.InterfaceIndex != 0)
                _singles.TryAdd(new NexthopKey(gw, n.InterfaceIndex, n.Onlink), n.Id);
        }
        foreach (var n in all)
        {
            if (n.Protocol == Rtnl.ProtoBird && n.IsGroup && n.Group.All(m => _ours.TryGetValue(m.Id, out var s) && !s.IsGroup))
                _groups.TryAdd([.. n.Group], n.Id);
        }
    }

    /// <summary>A route dump of one family has been read whole: its objects not named by any route may go.</summary>
    public void MarkDumped(bool ipv6)
    {
        if (ipv6)
            _dumpedV6 = true;
        else
            _dumpedV4 = true;
    }

    /// <summary>A route read in a dump names <paramref name="id"/>.</summary>
    public void Reference(uint id) => _referenced.Add(id);

    /// <summary>
    /// Our objects that no route read since the last <see cref="Rebuild"/> names and no write since
    /// then used, of the families dumped whole since: groups first (removing a member a group still
    /// holds would only shrink the group).
    /// </summary>
    public List<uint> Unused()
    {
        var unused = new List<uint>();
        var kept = new HashSet<uint>();
        foreach (var (id, n) in _ours)
        {
            if (!n.IsGroup)
                continue;
            if (_referenced.Contains(id) || _used.Contains(id) || !Dumped(FamilyOf(n)))
            {
                foreach (var m in n.Group)
                    kept.Add(m.Id);
            }
            else
            {
                unused.Add(id);
            }
        }
        foreach (var (id, n) in _ours)
        {
            if (!n.IsGroup && !_referenced.Contains(id) && !_used.Contains(id) && !kept.Contains(id) && Dumped(n.Family))
                unused.Add(id);
        }
        return unused;
    }

    /// <summary>Objects that were removed (a prune): forgotten.</summary>
    public void Forget(uint id)
    {
        if (!_ours.Remove(id, out var n))
            return;
        if (n.IsGroup)
            _groups.Remove([.. n.Group]);
        else if (n.Gateway is { } gw)
            _singles.Remove(new NexthopKey(gw, n.InterfaceIndex, n.Onlink));
        if (_lastKeyId == id)
            _lastKeyId = 0;
        if (_lastHopsId == id)
            _lastHopsId = 0;
        if (_lastUsedId == id)
            _lastUsedId = 0;
    }

    private byte FamilyOf(NexthopInfo group) =>
        group.Group.Length > 0 && _ours.TryGetValue(group.Group[0].Id, out var first) ? first.Family : Rtnl.AfUnspec;

    private bool Dumped(byte family) => family switch
    {
        Rtnl.AfInet => _dumpedV4,
        Rtnl.AfInet6 => _dumpedV6,
        _ => false,
    };

    /// <summary>
    /// The next hops of an object of ours, for a route dump that gives only its id
    /// (net.ipv4.nexthop_compat_mode = 0): a single gateway, or the hops of a group into <paramref name="hops"/>.
    /// </summary>
    public bool TryExpand(uint id, out NexthopInfo single, List<KernelNextHop> hops)
    {
        single = default;
        if (!_ours.TryGetValue(id, out var n))
            return false;
        if (!n.IsGroup)
        {
            single = n;
            return true;
        }
        hops.Clear();
        foreach (var m in n.Group)
        {
            if (!_ours.TryGetValue(m.Id, out var s))
            {
                hops.Clear();
                return false;
            }
            hops.Add(new KernelNextHop(s.Gateway, s.InterfaceIndex, s.Onlink, m.Weight));
        }
        return true;
    }

    /// <summary>Groups by their members in order (a span looks one up without an array).</summary>
    private sealed class GroupComparer : IEqualityComparer<NexthopGroupMember[]>, IAlternateEqualityComparer<ReadOnlySpan<NexthopGroupMember>, NexthopGroupMember[]>
    {
        public static readonly GroupComparer Instance = new();

        public bool Equals(NexthopGroupMember[]? x, NexthopGroupMember[]? y) =>
            ReferenceEquals(x, y) || (x is not null && y is not null && x.AsSpan().SequenceEqual(y));

        public int GetHashCode(NexthopGroupMember[] obj) => GetHashCode((ReadOnlySpan<NexthopGroupMember>)obj);

        public bool Equals(ReadOnlySpan<NexthopGroupMember> alternate, NexthopGroupMember[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<NexthopGroupMember> alternate)
        {
            var h = new HashCode();
            foreach (var m in alternate)
                h.Add(m);
            return h.ToHashCode();
        }

        public NexthopGroupMember[] Create(ReadOnlySpan<NexthopGroupMember> alternate) => alternate.ToArray();
    }
}
