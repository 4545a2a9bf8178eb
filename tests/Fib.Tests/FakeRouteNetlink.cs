using System.Threading.Channels;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Fib.Tests;

/// <summary>
/// An in-memory kernel routing table behind <see cref="IRouteNetlink"/>, for unit tests of the
/// reconcile logic: it keys routes as the kernel does (table, prefix, priority), answers each write
/// with the errno the kernel would (EEXIST, ESRCH) or one a test injects, records every write, and
/// can drop notifications (ENOBUFS) on its listener. Shared across restarts of a protocol, as the
/// kernel is: <see cref="Dispose"/> only counts.
/// </summary>
internal sealed class FakeRouteNetlink : IRouteNetlink
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(uint Table, Prefix Prefix, uint Metric), KernelRouteSpec> _routes = [];
    private readonly List<RouteChange> _writes = [];
    private readonly List<FakeListener> _listeners = [];

    public uint PortId => 4242;

    public List<LinkInfo> Links { get; } = [new LinkInfo(1, "lo", "", Rtnl.IffUp | Rtnl.IffLoopback, 65536, 772), new LinkInfo(2, "eth0", "veth", Rtnl.IffUp | Rtnl.IffLowerUp, 1500, 1)];
    public List<AddressInfo> Addresses { get; } = [new AddressInfo(2, IpAddr.Parse("172.16.0.1"), 24, null, Rtnl.ScopeUniverse, 0)];

    /// <summary>An errno to answer a write with instead of applying it (0 = apply).</summary>
    public Func<RouteChange, int> Refuse { get; set; } = _ => 0;

    public int Disposals { get; private set; }

    /// <summary>Awaited before a write is applied, with its changes (a test holds a chosen batch in the kernel).</summary>
    public Func<IReadOnlyList<RouteChange>, Task>? BeforeWrite { get; set; }

    /// <summary>While set and not completed, writes wait for it (a kernel that is slow to answer).</summary>
    public TaskCompletionSource? Paused { get; set; }

    public IReadOnlyList<RouteChange> Writes
    {
        get
        {
            lock (_lock)
                return [.. _writes];
        }
    }

    public IReadOnlyList<KernelRouteSpec> Routes
    {
        get
        {
            lock (_lock)
                return [.. _routes.Values];
        }
    }

    public KernelRouteSpec? Find(string prefix)
    {
        var p = Prefix.Parse(prefix);
        lock (_lock)
            return _routes.Values.FirstOrDefault(r => r.Prefix == p);
    }

    /// <summary>Puts a route in the table as someone else (or an earlier run) would, without recording a write.</summary>
    public void Seed(KernelRouteSpec route)
    {
        lock (_lock)
            _routes[Key(route)] = route;
    }

    /// <summary>Takes a route away behind the protocol's back.</summary>
    public void Remove(string prefix)
    {
        var p = Prefix.Parse(prefix);
        lock (_lock)
        {
            foreach (var k in _routes.Keys.Where(k => k.Prefix == p).ToList())
                _routes.Remove(k);
        }
    }

    public void ClearWrites()
    {
        lock (_lock)
            _writes.Clear();
    }

    /// <summary>Makes every listener fail its next receive with ENOBUFS, as a full socket buffer does.</summary>
    public void Overflow()
    {
        lock (_lock)
        {
            foreach (var l in _listeners)
                l.Fail(new NetlinkException(Errno.Enobufs, "netlink receive buffer overflowed; notifications were lost"));
        }
    }

    private static (uint, Prefix, uint) Key(KernelRouteSpec r) => (r.Table, r.Prefix, r.EffectiveMetric);

    public async Task<NetlinkResult[]> ApplyAsync(IReadOnlyList<RouteChange> changes, CancellationToken cancellationToken)
    {
        if (Paused is { } paused)
            await paused.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (BeforeWrite is { } before)
            await before(changes).ConfigureAwait(false);
        var results = new NetlinkResult[changes.Count];
        lock (_lock)
        {
            for (var i = 0; i < changes.Count; i++)
            {
                var c = changes[i];
                _writes.Add(c);
                var errno = Refuse(c);
                results[i] = errno != 0 ? new NetlinkResult(errno, "refused by the test") : Apply(c);
            }
        }
        return results;
    }

    private NetlinkResult Apply(RouteChange c)
    {
        var key = Key(c.Route);
        var exists = _routes.TryGetValue(key, out var old);
        switch (c.Kind)
        {
            case RouteChangeKind.Add when exists:
                return new NetlinkResult(Errno.Eexist, null);
            case RouteChangeKind.Add or RouteChangeKind.Replace:
                _routes[key] = c.Route;
                return NetlinkResult.Ok;
            default:
                // RTM_DELROUTE with a protocol only matches a route of that protocol.
                if (!exists || old!.Protocol != c.Route.Protocol)
                    return new NetlinkResult(Errno.Esrch, null);
                _routes.Remove(key);
                return NetlinkResult.Ok;
        }
    }

    public Task<IReadOnlyList<KernelRouteSpec>> DumpRoutesAsync(bool ipv6, CancellationToken cancellationToken)
    {
        lock (_lock)
            return Task.FromResult<IReadOnlyList<KernelRouteSpec>>([.. _routes.Values.Where(r => r.Prefix.IsV6 == ipv6)]);
    }

    /// <summary>
    /// Routes the next streamed dump gives before the kernel flags it interrupted (NLM_F_DUMP_INTR)
    /// and it starts over with the table as it is; null for an uninterrupted dump.
    /// </summary>
    public IReadOnlyList<KernelRouteSpec>? InterruptNextDumpAfter { get; set; }

    public async Task DumpRoutesAsync(bool ipv6, IRouteDumpSink sink, CancellationToken cancellationToken)
    {
        if (InterruptNextDumpAfter is { } partial)
        {
            InterruptNextDumpAfter = null;
            foreach (var r in partial.Where(r => r.Prefix.IsV6 == ipv6))
                sink.OnRoute(RouteFields.Of(r), r.IsMultipath ? r.NextHops.AsSpan() : default);
            sink.Restart();
        }
        foreach (var r in await DumpRoutesAsync(ipv6, cancellationToken))
            sink.OnRoute(RouteFields.Of(r), r.IsMultipath ? r.NextHops.AsSpan() : default);
    }

    public Task<IReadOnlyList<LinkInfo>> DumpLinksAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<LinkInfo>>([.. Links]);

    public Task<IReadOnlyList<AddressInfo>> DumpAddressesAsync(bool ipv6, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<AddressInfo>>([.. Addresses.Where(a => a.Address.IsV6 == ipv6)]);

    public INetlinkListener? OpenListener(IReadOnlyList<int> groups)
    {
        var l = new FakeListener(this);
        lock (_lock)
            _listeners.Add(l);
        return l;
    }

    public void Dispose() => Disposals++;

    private sealed class FakeListener(FakeRouteNetlink owner) : INetlinkListener
    {
        private readonly Channel<Exception> _events = Channel.CreateUnbounded<Exception>();

        public void Fail(Exception e) => _events.Writer.TryWrite(e);

        public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
            throw await _events.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);

        public void Dispose()
        {
            lock (owner._lock)
                owner._listeners.Remove(this);
        }
    }
}
