using BenchmarkDotNet.Attributes;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Benchmarks;

/// <summary>
/// What the host cache (<c>gateway recursive</c>) costs the table's writer: a peer's full table of a
/// million /24 into an empty RIB, with no next hop known, and with a reflector's thousand clients'
/// next hops known and unresolved (the worst case: each is decided at every length, 33 prefixes
/// apiece, so the writer's filter has the most bits set). Per operation = per route.
/// </summary>
[MemoryDiagnoser]
public class HostCacheBenchmarks
{
    private const int FullTable = 1_000_000;

    private Prefix[] _prefixes = [];
    private RoutingTable _table = null!;
    private RibBenchProtocol _peer = null!;
    private PathAttributes _attrs = null!;

    [Params(0, 1000)]
    public int NextHops { get; set; }

    [GlobalSetup]
    public void Setup() => _prefixes = [.. Enumerable.Range(0, FullTable).Select(RibBenchProtocol.PrefixAt)];

    [IterationSetup]
    public void NewTable()
    {
        _table = new RoutingTable();
        _peer = new RibBenchProtocol("peer", _table, 1);
        _attrs = _table.Attributes.Intern(RibBenchProtocol.Attributes());
        // Next hops outside the table's prefixes (172.16.0.0/16), which nothing covers.
        for (var i = 0; i < NextHops; i++)
            _table.Hosts.Resolve(IpAddr.FromV4(0xAC100000u + (uint)i + 1));
    }

    [Benchmark(OperationsPerInvoke = FullTable)]
    public void InsertFullTable()
    {
        foreach (var p in _prefixes)
            _table.Update(Route.Create(p, _attrs, _peer));
    }
}
