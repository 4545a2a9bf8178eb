using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Benchmarks;

/// <summary>
/// The kernel protocol's own work per route (issue #6's P5), without the kernel: a netlink that
/// answers every write at once (<see cref="AnsweringNetlink"/>). <see cref="Install"/> starts the
/// protocol on a table filled with 100,000 /24s and waits until every route is counted installed
/// (initial feed: plan, write, take in the results); <see cref="Remove"/> withdraws every prefix
/// whole in the table's order (as a session going down) and waits until none is left (journal
/// batches: plan, write, take in). The table's own withdrawals are in <see cref="Remove"/> too.
/// One invocation per iteration (a route is installed or removed once).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 2, iterationCount: 12, invocationCount: 1)]
public class KernelProtocolBenchmarks
{
    private const int Routes = 100_000;

    private RoutingTable _table = null!;
    private RibBenchProtocol _owner = null!;
    private KernelProtocol _kernel = null!;
    private Prefix[] _prefixes = [];

    [GlobalSetup]
    public void Setup() =>
        _prefixes = [.. Enumerable.Range(0, Routes).Select(i => new Prefix(IpAddr.FromV4(0x0A000000u + ((uint)i << 8)), 24))];

    private void Fill()
    {
        _table = new RoutingTable();
        _owner = new RibBenchProtocol("bgp1", _table, 1);
        var attrs = _table.Attributes.Intern(new PathAttributes
        {
            Source = RouteSource.Bgp,
            Dest = RouteDest.Router,
            NextHop = IpAddr.Parse("172.16.0.2"),
            Gateway = IpAddr.Parse("172.16.0.2"),
        });
        foreach (var p in _prefixes)
            _table.Update(Route.Create(p, attrs, _owner));
        var options = new KernelProtocolOptions { Name = "kernel1", ExportFilter = RouteFilter.AcceptAll, ScanTime = 3600, Persist = true, Notifications = false };
        _kernel = new KernelProtocol(options, _table, TimeProvider.System, NullLoggerFactory.Instance, () => new AnsweringNetlink());
    }

    [IterationSetup(Target = nameof(Install))]
    public void SetupInstall() => Fill();

    [Benchmark]
    public void Install()
    {
        _kernel.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
        Until(() => _kernel.Counters.RoutesInstalled == Routes);
    }

    [IterationSetup(Target = nameof(Remove))]
    public void SetupRemove()
    {
        Fill();
        Install();
    }

    [Benchmark]
    public void Remove()
    {
        _table.WithdrawAll(_owner);
        Until(() => _kernel.Counters.RoutesInstalled == 0);
    }

    [IterationCleanup]
    public void Cleanup() => _kernel.StopAsync(CancellationToken.None).GetAwaiter().GetResult();

    private static void Until(Func<bool> done)
    {
        var deadline = Environment.TickCount64 + 60_000;
        while (!done())
        {
            if (Environment.TickCount64 > deadline)
                throw new TimeoutException("the kernel protocol did not finish within a minute");
            Thread.Sleep(1);
        }
    }

    /// <summary>A kernel that takes every write at once: only the protocol's own work is left to time.</summary>
    private sealed class AnsweringNetlink : IRouteNetlink
    {
        private static readonly LinkInfo[] Links = [new(1, "lo", "", Rtnl.IffUp | Rtnl.IffLoopback, 65536, 772), new(2, "eth0", "veth", Rtnl.IffUp | Rtnl.IffLowerUp, 1500, 1)];
        private static readonly AddressInfo[] Addresses = [new(2, IpAddr.Parse("172.16.0.1"), 24, null, Rtnl.ScopeUniverse, 0)];

        public uint PortId => 4242;

        public INetlinkListener? OpenListener(IReadOnlyList<int> groups) => null;

        public Task<NetlinkResult[]> ApplyAsync(IReadOnlyList<RouteChange> changes, CancellationToken cancellationToken)
        {
            var results = new NetlinkResult[changes.Count];
            Array.Fill(results, NetlinkResult.Ok);
            return Task.FromResult(results);
        }

        public Task<IReadOnlyList<KernelRouteSpec>> DumpRoutesAsync(bool ipv6, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<KernelRouteSpec>>([]);

        public Task<IReadOnlyList<LinkInfo>> DumpLinksAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<LinkInfo>>(Links);

        public Task<IReadOnlyList<AddressInfo>> DumpAddressesAsync(bool ipv6, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<AddressInfo>>([.. Addresses.Where(a => a.Address.IsV6 == ipv6)]);

        public void Dispose()
        {
        }
    }
}
