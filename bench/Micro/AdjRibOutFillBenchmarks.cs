using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Export;

namespace Calico.Bgp.Benchmarks;

/// <summary>
/// An update group's Adj-RIB-Out filled from empty with a million single-path /24, as P1's group
/// fills it (<see cref="AdjRibOut.Hash"/>, Find, Set), per insert: the growth's rebuilds are most of
/// the cost. <c>Reserved</c>: room made first (0: none, the ×1.5 steps as P1's group grows; the whole
/// table: what a resync makes).
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
[MemoryDiagnoser]
public class AdjRibOutFillBenchmarks
{
    private const int Prefixes = 1_000_000;

    private Prefix[] _prefixes = [];
    private int[] _hashes = [];
    private PathOut[] _paths = [];

    [Params(0, Prefixes)]
    public int Reserved { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var table = new RoutingTable();
        var source = new RibBenchProtocol("peer", table, 1);
        var attrs = table.Attributes.Intern(RibBenchProtocol.Attributes());
        _prefixes = new Prefix[Prefixes];
        _hashes = new int[Prefixes];
        _paths = new PathOut[Prefixes];
        for (var i = 0; i < Prefixes; i++)
        {
            _prefixes[i] = RibBenchProtocol.PrefixAt(i);
            _hashes[i] = AdjRibOut.Hash(_prefixes[i]);
            _paths[i] = new PathOut(new Route(_prefixes[i], attrs, source), 0, attrs);
        }
    }

    [Benchmark(OperationsPerInvoke = Prefixes)]
    public int Fill()
    {
        var map = new AdjRibOut();
        map.Reserve(Reserved, 0);
        for (var i = 0; i < Prefixes; i++)
        {
            var index = map.Find(_prefixes[i], _hashes[i]);
            map.Set(index, _prefixes[i], _hashes[i], new ReadOnlySpan<PathOut>(in _paths[i]));
        }
        return map.Count;
    }
}
