using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Export;

namespace Calico.Bgp.Benchmarks;

/// <summary>
/// An update group's Adj-RIB-Out with a million single-path /24, indexed by the table's prefix
/// numbers as the group indexes it (number i for the i-th prefix to arrive): filled from empty, per
/// insert (P1's group), and emptied in the order a withdrawal may come — ascending (the sender's order)
/// or random — per removal. Each removal iteration refills the map untimed.
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
[MemoryDiagnoser]
public class AdjRibOutBenchmarks
{
    private const int Prefixes = 1_000_000;

    private Prefix[] _prefixes = [];
    private PathOut[] _paths = [];
    private int[] _order = [];
    private AdjRibOut _map = new();

    [Params("Ascending", "Random")]
    public string Order { get; set; } = "Ascending";

    [GlobalSetup]
    public void Setup()
    {
        var table = new RoutingTable();
        var source = new RibBenchProtocol("peer", table, 1);
        var attrs = table.Attributes.Intern(RibBenchProtocol.Attributes());
        _prefixes = new Prefix[Prefixes];
        _paths = new PathOut[Prefixes];
        for (var i = 0; i < Prefixes; i++)
        {
            _prefixes[i] = RibBenchProtocol.PrefixAt(i);
            _paths[i] = new PathOut(Route.Create(_prefixes[i], attrs, source), 0, attrs);
        }
        _order = Order == "Ascending"
            ? [.. Enumerable.Range(0, Prefixes)]
            : [.. Enumerable.Range(0, Prefixes).OrderBy(_ => Random.Shared.Next())];
    }

    [Benchmark(OperationsPerInvoke = Prefixes)]
    public int Fill()
    {
        _map.Dispose();
        _map = new AdjRibOut();
        foreach (var i in _order)
            _map.Set(AdjRibOut.IndexOf(_prefixes[i], i), _prefixes[i], new ReadOnlySpan<PathOut>(in _paths[i]));
        return _map.Count;
    }

    [IterationSetup(Target = nameof(RemoveAll))]
    public void Refill() => Fill();

    [Benchmark(OperationsPerInvoke = Prefixes)]
    public int RemoveAll()
    {
        foreach (var i in _order)
            _map.Set(AdjRibOut.IndexOf(_prefixes[i], i), _prefixes[i], []);
        return _map.Count;
    }
}
