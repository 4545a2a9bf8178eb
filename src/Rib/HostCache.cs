using System.Collections.Concurrent;

namespace Calico.Bgp.Rib;

/// <summary>
/// The next hops that <c>gateway recursive</c> routes are resolved through, with how each is reached
/// now (BIRD's hostcache): one lookup per next hop, not per route, and looked again whenever the
/// table changes a prefix that could decide it.
/// </summary>
/// <remarks>
/// <para>A next hop resolves through the longest prefix of the table that covers it and has a route
/// (BIRD's <c>net_route</c> and <c>rt_update_hostentry</c>): a directly connected network makes the
/// next hop itself the gateway on that network's interface; a route via a router lends its gateway
/// and interface; a multipath route its next hops; a blackhole, unreachable or prohibit route its
/// destination. Nothing covering it, a best route that was itself resolved this way (one level of
/// indirection only, as BIRD allows), or a next hop that is our own address leaves it unreachable.</para>
/// <para>Which changes matter: for each next hop, the prefixes that contain it and are at least as
/// long as the one that decided it (any length when nothing did). The table's writer checks each
/// change against them, first in a bitmap of the address blocks (/16 for IPv4, a fold of the /32 for
/// IPv6) that hold a next hop, so a change in a block without one (a pod block beside the nodes'
/// network) costs a load from 8 KiB. One that can matter schedules a refresh on the thread pool,
/// which looks every next hop up again and, if any resolves differently, raises
/// <see cref="Changed"/> for the protocols to resolve their routes anew.</para>
/// <para>Lookups run under the table's writer lock, so no change can slip between a lookup and the
/// ranges it sets, and the ranges are only read and written under it: a new next hop adds its own
/// (a few dozen prefixes), whatever the number of next hops known; only a refresh that changed
/// something builds them anew. Next hops are kept while the daemon runs (one per address ever seen as
/// a next hop, a few dozen bytes each): a node's peers are the next hops, and they are few.</para>
/// </remarks>
public sealed class HostCache
{
    // A bit per address block that holds a next hop: 2^16 blocks a family (8 KiB each), a block being
    // an IPv4 /16 or an IPv6 /32.
    private const int BlockWords = (1 << 16) / 64;
    private const int V4BlockLength = 16;
    private const int V6BlockLength = 32;

    private readonly RoutingTable _table;
    private readonly ConcurrentDictionary<IpAddr, Host> _hosts = new();
    // The ranges (see the remarks), under the table's writer lock.
    private readonly HashSet<Prefix> _ranges = [];
    // Made with the first next hop; then the ranges at block lengths and up are marked in these, and
    // the shorter ones (to /0) by length alone.
    private ulong[]? _v4Blocks;
    private ulong[]? _v6Blocks;
    private ulong _v4Short;
    private ulong _v6Short;
    private int _dirty;
    private long _refreshes;

    internal HostCache(RoutingTable table) => _table = table;

    /// <summary>
    /// Raised on the thread pool after a refresh found next hops that resolve differently now, with
    /// their addresses; <see cref="Resolve"/> already answers the new way. Handlers must not block long.
    /// </summary>
    public event Action<IReadOnlySet<IpAddr>>? Changed;

    /// <summary>Next hops known.</summary>
    public int Count => _hosts.Count;

    /// <summary>Next hops known, by whether they resolve now (<see cref="HostResolution.Resolvable"/>).</summary>
    public (int Resolvable, int Unresolvable) CountByState()
    {
        int yes = 0, no = 0;
        foreach (var host in _hosts.Values)
        {
            if (host.Resolution.Resolvable)
                yes++;
            else
                no++;
        }
        return (yes, no);
    }

    /// <summary>
    /// Whether an address is one of ours on the named interface (set by the daemon from its interface
    /// list): such a next hop on a connected network is no gateway, and stays unresolved, as in BIRD.
    /// Call <see cref="Invalidate"/> when the answer may have changed.
    /// </summary>
    public Func<IpAddr, string, bool>? IsLocalAddress { get; set; }

    /// <summary>Looks every next hop up again soon (the local addresses changed).</summary>
    public void Invalidate() => ScheduleRefresh();

    /// <summary>Refreshes run so far (each looked every next hop up again).</summary>
    public long Refreshes => Interlocked.Read(ref _refreshes);

    /// <summary>How the next hop <paramref name="address"/> is reached now.</summary>
    public HostResolution Resolve(IpAddr address)
    {
        if (_hosts.TryGetValue(address, out var host))
            return host.Resolution;
        lock (_table.Writer)
        {
            if (_hosts.TryGetValue(address, out host))
                return host.Resolution;
            host = new Host(address, Lookup(address));
            _hosts[address] = host;
            AddRanges(host);
            return host.Resolution;
        }
    }

    /// <summary>
    /// The table's writer published a change of <paramref name="prefix"/>: schedules a refresh if it
    /// could change how a next hop resolves. Under the table's writer lock.
    /// </summary>
    internal void Touch(in Prefix prefix)
    {
        if (_v4Blocks is null)
            return;
        var marked = prefix.IsV6
            ? prefix.Length >= V6BlockLength ? Has(_v6Blocks!, V6Block(prefix.Hi)) : (_v6Short & (1UL << prefix.Length)) != 0
            : prefix.Length >= V4BlockLength ? Has(_v4Blocks, V4Block(prefix.Lo)) : (_v4Short & (1UL << prefix.Length)) != 0;
        if (marked && _ranges.Contains(prefix))
            ScheduleRefresh();
    }

    // IPv4: the /16 (a prefix's address is in its low word). IPv6: the /32, folded to 16 bits.
    private static int V4Block(ulong lo) => (int)((uint)lo >> 16);

    private static int V6Block(ulong hi) => (int)(PrefixHash.Fmix32((uint)(hi >> 32)) & 0xFFFF);

    private static bool Has(ulong[] blocks, int block) => (blocks[block >> 6] & (1UL << block)) != 0;

    private void ScheduleRefresh()
    {
        if (Interlocked.Exchange(ref _dirty, 1) == 0)
            ThreadPool.UnsafeQueueUserWorkItem(static cache => cache.Refresh(), this, preferLocal: false);
    }

    private void Refresh()
    {
        HashSet<IpAddr>? changed = null;
        lock (_table.Writer)
        {
            // Under the writer: a change after this point is checked against the ranges set below.
            Volatile.Write(ref _dirty, 0);
            foreach (var host in _hosts.Values)
            {
                var now = Lookup(host.Address);
                if (!now.Equals(host.Resolution))
                {
                    host.Resolution = now;
                    (changed ??= []).Add(host.Address);
                }
            }
            if (changed is not null)
            {
                // Ranges of next hops that now resolve through other prefixes go: start again.
                _ranges.Clear();
                Array.Clear(_v4Blocks!);
                Array.Clear(_v6Blocks!);
                _v4Short = _v6Short = 0;
                foreach (var host in _hosts.Values)
                    AddRanges(host);
            }
        }
        Interlocked.Increment(ref _refreshes);
        if (changed is not null)
            Changed?.Invoke(changed);
    }

    /// <summary>BIRD's <c>rt_update_hostentry</c> (see the remarks).</summary>
    private HostResolution Lookup(IpAddr address)
    {
        for (var length = address.BitLength; length >= 0; length--)
        {
            if (_table.Find(new Prefix(address, length)) is not { Best: { } best })
                continue;
            var a = best.Attributes;
            // One level only: a route resolved through the table must not resolve another. And our own
            // address on a connected network is no gateway (BIRD warns of both and leaves them unresolved).
            if (a.Recursive || (a.Dest == RouteDest.Device && a.Interface is { } device && IsLocalAddress?.Invoke(address, device) == true))
                return HostResolution.None with { MatchLength = length };
            return a.Dest switch
            {
                // On a connected network the next hop is its own gateway (HostResolution.ApplyTo).
                RouteDest.Device => new(RouteDest.Router, null, a.Interface, default, 0, length),
                RouteDest.Router => new(RouteDest.Router, a.Gateway, a.Interface, default, IgpMetricOf(a), length),
                RouteDest.Multipath => new(RouteDest.Multipath, null, null, a.NextHops, IgpMetricOf(a), length),
                var dest => new(dest, null, null, default, IgpMetricOf(a), length),
            };
        }
        return HostResolution.None;
    }

    /// <summary>BIRD 1.6's <c>rt_get_igp_metric</c>: the route's own, 0 for a connected network, else unknown.</summary>
    private static uint IgpMetricOf(PathAttributes a) =>
        a.IgpMetric ?? (a.Source == RouteSource.Device ? 0 : PathAttributes.IgpMetricUnknown);

    /// <summary>The prefixes whose change could decide <paramref name="host"/> anew. Under the table's writer lock.</summary>
    private void AddRanges(Host host)
    {
        _v4Blocks ??= new ulong[BlockWords];
        _v6Blocks ??= new ulong[BlockWords];
        var address = host.Address;
        for (var length = Math.Max(host.Resolution.MatchLength, 0); length <= address.BitLength; length++)
        {
            var prefix = new Prefix(address, length);
            if (!_ranges.Add(prefix))
                continue;
            if (prefix.IsV6)
            {
                if (length >= V6BlockLength)
                    Mark(_v6Blocks, V6Block(prefix.Hi));
                else
                    _v6Short |= 1UL << length;
            }
            else if (length >= V4BlockLength)
                Mark(_v4Blocks, V4Block(prefix.Lo));
            else
                _v4Short |= 1UL << length;
        }
    }

    private static void Mark(ulong[] blocks, int block) => blocks[block >> 6] |= 1UL << block;

    private sealed class Host(IpAddr address, HostResolution resolution)
    {
        private volatile HostResolution _resolution = resolution;

        public IpAddr Address { get; } = address;

        public HostResolution Resolution
        {
            get => _resolution;
            set => _resolution = value;
        }
    }
}
