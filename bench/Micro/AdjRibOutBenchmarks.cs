using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Export;

namespace Calico.Bgp.Benchmarks;

/// <summary>
/// An update group's Adj-RIB-Out emptied: a million single-path /24 filled as the group fills it
/// (<see cref="AdjRibOut.Hash"/>, Find, Set), then all removed in the order a withdrawal may come —
/// ascending prefixes (the sender's order), the map's own slot order (a resync walks the array for
/// what is gone) or random — measured per removal. Each iteration refills the map untimed.
/// Before each measured run the setup prints the longest run of used slots seen after each shrink,
/// the worst probe a removal or a rebuild's insert can take.
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class AdjRibOutBenchmarks
{
    private const int Prefixes = 1_000_000;

    private Prefix[] _prefixes = [];
    private int[] _hashes = [];
    private PathOut[] _paths = [];
    private int[] _order = [];
    private AdjRibOut _map = new();

    [Params("Ascending", "SlotOrder", "Random")]
    public string Order { get; set; } = "Ascending";

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
        Fill();
        _order = Order switch
        {
            "Ascending" => [.. Enumerable.Range(0, Prefixes)],
            // The full map's slot order, as a resync collects the prefixes that are gone.
            "SlotOrder" => SlotOrder(_map),
            _ => [.. Enumerable.Range(0, Prefixes).OrderBy(_ => Random.Shared.Next())],
        };
        // Untimed: the runs a removal and a rebuild walk, once per array size on the way down.
        var capacity = _map.Capacity;
        var report = new List<string> { $"{capacity}: run {_map.LongestRun()}" };
        for (var k = 0; k < _order.Length; k++)
        {
            Remove(_order[k]);
            if (_map.Capacity != capacity)
            {
                capacity = _map.Capacity;
                report.Add($"{capacity}: run {_map.LongestRun()} ({_map.Count} left)");
            }
        }
        Console.WriteLine($"// AdjRibOut {Order}: longest run after each shrink: {string.Join(", ", report)}");
    }

    [IterationSetup]
    public void Fill()
    {
        _map = new AdjRibOut();
        for (var i = 0; i < Prefixes; i++)
        {
            var index = _map.Find(_prefixes[i], _hashes[i]);
            _map.Set(index, _prefixes[i], _hashes[i], new ReadOnlySpan<PathOut>(in _paths[i]));
        }
    }

    [Benchmark(OperationsPerInvoke = Prefixes)]
    public int RemoveAll()
    {
        foreach (var i in _order)
            Remove(i);
        return _map.Count;
    }

    private void Remove(int i) => _map.Set(_map.Find(_prefixes[i], _hashes[i]), _prefixes[i], _hashes[i], []);

    private int[] SlotOrder(AdjRibOut map)
    {
        var at = new Dictionary<Prefix, int>(Prefixes);
        for (var i = 0; i < Prefixes; i++)
            at[_prefixes[i]] = i;
        var order = new List<int>(Prefixes);
        for (var s = 0; s < map.Capacity; s++)
        {
            if (map.IsUsed(s))
                order.Add(at[map.PrefixAt(s)]);
        }
        return [.. order];
    }
}
