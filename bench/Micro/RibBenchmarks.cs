using BenchmarkDotNet.Attributes;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Benchmarks;

/// <summary>
/// The RIB's writer: a full table from one peer (a million routes sharing one attribute set, as a
/// Calico route reflector sees them), and best-path churn (two peers' routes for the same prefixes,
/// the best flipping on every update). Per operation = per route.
/// </summary>
[MemoryDiagnoser]
public class RibBenchmarks
{
    private const int FullTable = 1_000_000;
    private const int ChurnPrefixes = 100_000;

    private Prefix[] _prefixes = [];
    private RoutingTable _table = null!;
    private RibBenchProtocol _peer = null!;
    private PathAttributes _attrs = null!;

    private RoutingTable _churn = null!;
    private Route[] _better = [];
    private Route[] _worse = [];
    private bool _flip;

    [GlobalSetup]
    public void Setup()
    {
        _prefixes = [.. Enumerable.Range(0, FullTable).Select(RibBenchProtocol.PrefixAt)];
        Console.WriteLine($"// retained bytes per route at {FullTable:N0} routes: {RetainedBytesPerRoute(_prefixes):F1}");

        _churn = new RoutingTable();
        var a = new RibBenchProtocol("peer_a", _churn, 1);
        var b = new RibBenchProtocol("peer_b", _churn, 2);
        var normal = _churn.Attributes.Intern(RibBenchProtocol.Attributes());
        var high = _churn.Attributes.Intern(RibBenchProtocol.Attributes(200));
        var low = _churn.Attributes.Intern(RibBenchProtocol.Attributes(50));
        for (var i = 0; i < ChurnPrefixes; i++)
            _churn.Update(Route.Create(_prefixes[i], normal, b));
        _better = [.. Enumerable.Range(0, ChurnPrefixes).Select(i => Route.Create(_prefixes[i], high, a))];
        _worse = [.. Enumerable.Range(0, ChurnPrefixes).Select(i => Route.Create(_prefixes[i], low, a))];
    }

    /// <summary>Heap kept by a table of <paramref name="prefixes"/>.Length routes from one peer, per route.</summary>
    private static double RetainedBytesPerRoute(Prefix[] prefixes)
    {
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var table = new RoutingTable();
        var peer = new RibBenchProtocol("peer", table, 1);
        var attrs = table.Attributes.Intern(RibBenchProtocol.Attributes());
        foreach (var p in prefixes)
            table.Update(Route.Create(p, attrs, peer));
        var after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(table);
        return (after - before) / (double)prefixes.Length;
    }

    [IterationSetup(Targets = [nameof(InsertFullTable), nameof(InsertFullTableInBatches)])]
    public void NewTable()
    {
        _table = new RoutingTable();
        _peer = new RibBenchProtocol("peer", _table, 1);
        _attrs = _table.Attributes.Intern(RibBenchProtocol.Attributes());
    }

    /// <summary>A peer's full table into an empty RIB: the importer's Route and the table's entry per prefix.</summary>
    [Benchmark(OperationsPerInvoke = FullTable)]
    public void InsertFullTable()
    {
        foreach (var p in _prefixes)
            _table.Update(Route.Create(p, _attrs, _peer));
    }

    /// <summary>
    /// The same in batches of 1,000 (<see cref="RoutingTable.BeginBatch"/>: a peer's UPDATE of /24s
    /// holds about that many), as the BGP importer puts each UPDATE in.
    /// </summary>
    [Benchmark(OperationsPerInvoke = FullTable)]
    public void InsertFullTableInBatches()
    {
        for (var start = 0; start < _prefixes.Length; start += 1000)
        {
            using var batch = _table.BeginBatch();
            var end = Math.Min(start + 1000, _prefixes.Length);
            for (var i = start; i < end; i++)
                _table.Update(Route.Create(_prefixes[i], _attrs, _peer));
        }
    }

    /// <summary>Peer A's route for every prefix goes from better than B's to worse and back: the best changes each time.</summary>
    [Benchmark(OperationsPerInvoke = ChurnPrefixes)]
    public void BestPathChurn()
    {
        var routes = (_flip = !_flip) ? _better : _worse;
        foreach (var r in routes)
            _churn.Update(r);
    }
}
