using BenchmarkDotNet.Attributes;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Benchmarks;

/// <summary>
/// Export through the change journal: 10,000 route changes written once and read by 1,000 consumers
/// (a route reflector's peers, each with a cursor). Per operation = one change delivered to one consumer.
/// </summary>
[MemoryDiagnoser]
public class RibJournalBenchmarks
{
    private const int Changes = 10_000;
    private const int Consumers = 1_000;

    private RoutingTable _table = null!;
    private JournalReader[] _readers = [];
    private Route[] _one = [];
    private Route[] _two = [];
    private readonly TableChange[] _buffer = new TableChange[256];
    private bool _flip;

    [GlobalSetup]
    public void Setup()
    {
        _table = new RoutingTable();
        var peer = new RibBenchProtocol("peer", _table, 1);
        var a = _table.Attributes.Intern(RibBenchProtocol.Attributes());
        var b = _table.Attributes.Intern(RibBenchProtocol.Attributes(200));
        _one = [.. Enumerable.Range(0, Changes).Select(i => Route.Create(RibBenchProtocol.PrefixAt(i), a, peer))];
        _two = [.. Enumerable.Range(0, Changes).Select(i => Route.Create(RibBenchProtocol.PrefixAt(i), b, peer))];
        _readers = [.. Enumerable.Range(0, Consumers).Select(i => _table.SubscribeJournal($"peer{i}", 2 * Changes))];
        var snapshot = new List<RouteEntry>();
        foreach (var r in _readers)
            r.Resync(snapshot);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var r in _readers)
            r.Dispose();
    }

    /// <summary>The writer publishes 10,000 changes; every consumer reads all of them.</summary>
    [Benchmark(OperationsPerInvoke = Changes * Consumers)]
    public long ExportToConsumers()
    {
        var routes = (_flip = !_flip) ? _one : _two;
        foreach (var r in routes)
            _table.Update(r);
        long seen = 0;
        foreach (var reader in _readers)
        {
            int n;
            while ((n = reader.TryRead(_buffer)) > 0)
            {
                for (var i = 0; i < n; i++)
                    seen += _buffer[i].Version & 1;
            }
        }
        return seen;
    }
}
