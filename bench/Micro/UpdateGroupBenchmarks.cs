using BenchmarkDotNet.Attributes;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker;
using Calico.Bgp.Speaker.Export;
using Calico.Bgp.Speaker.Wire;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Benchmarks;

/// <summary>
/// An update group's per-route work (issue #9, P1): one pass over a chunk of 4,096 journal changes
/// (the group's chunk) against an Adj-RIB-Out of 200,000 prefixes, the UPDATEs encoded and queued to
/// one eBGP member, measured per change. <c>Replace</c>: every prefix changes attribute set
/// (announcements); <c>Churn</c>: every other prefix is withdrawn, then announced again (the
/// Adj-RIB-Out removes and inserts, and stays at least half full). The allocation column is per change; what remains is the UPDATE bytes
/// themselves (shared by all members), about 4 bytes per /24.
/// </summary>
[MemoryDiagnoser]
public class UpdateGroupBenchmarks
{
    private const int Prefixes = 200_000;
    private const int Chunk = 4096;

    private readonly List<ReadOnlyMemory<byte>> _sent = [];
    private RoutingTable _table = null!;
    private UpdateGroup _group = null!;
    private UpdateGroupMember _member = null!;
    private TableChange[][] _first = [];
    private TableChange[][] _second = [];
    private int _next;
    private bool _flip;

    [Params("Replace", "Churn")]
    public string Case { get; set; } = "Replace";

    [GlobalSetup]
    public void Setup()
    {
        _table = new RoutingTable();
        var source = new RibBenchProtocol("peer", _table, 1);
        var a = _table.Attributes.Intern(RibBenchProtocol.Attributes());
        // Another MED: the set an eBGP member is sent differs too (LOCAL_PREF alone would not travel).
        var b = _table.Attributes.Intern(RibBenchProtocol.Attributes() with { Med = 20 });
        var reader = _table.SubscribeJournal("bench", 4 * Prefixes);
        reader.Resync([]);
        // Capture the table's own changes (immutable entries) once; each operation replays a chunk.
        for (var i = 0; i < Prefixes; i++)
            _table.Update(Route.Create(RibBenchProtocol.PrefixAt(i), a, source));
        var initial = Read(reader);
        if (Case == "Replace")
        {
            for (var i = 0; i < Prefixes; i++)
                _table.Update(Route.Create(RibBenchProtocol.PrefixAt(i), b, source));
            _second = Read(reader);
            _first = initial;
        }
        else
        {
            for (var i = 0; i < Prefixes; i += 2)
                _table.Withdraw(RibBenchProtocol.PrefixAt(i), source);
            _second = Read(reader);
            for (var i = 0; i < Prefixes; i += 2)
                _table.Update(Route.Create(RibBenchProtocol.PrefixAt(i), a, source));
            _first = Read(reader);
        }
        reader.Dispose();

        var options = new BgpProtocolOptions
        {
            Name = "member",
            RouterId = 0x0A000001,
            LocalAs = 64512,
            PeerAs = 64513,
            NeighborAddress = IpAddr.Parse("192.0.2.2"),
            SourceAddress = IpAddr.Parse("192.0.2.1"),
            ExportFilter = RouteFilter.AcceptAll,
        };
        var member = new BgpProtocol(options, _table, TimeProvider.System, NullLoggerFactory.Instance, null);
        var registry = new UpdateGroupRegistry(maxPendingBytes: 64 << 20);
        var codec = new BgpCodec(true, false, AddPathMode.None, AddPathMode.None);
        _group = new UpdateGroup(registry, UpdateGroupKey.For(_table, options, codec, null));
        _member = _group.Add(member);
        _member.NeedsFull = false;
        // The Adj-RIB-Out holds every prefix before the first operation.
        lock (_group.Sync)
        {
            foreach (var chunk in initial)
                _group.Process(chunk);
        }
        Drain();
    }

    private static TableChange[][] Read(JournalReader reader)
    {
        var chunks = new List<TableChange[]>();
        var buffer = new TableChange[Chunk];
        int n;
        while ((n = reader.TryRead(buffer)) > 0)
            chunks.Add(buffer[..n]);
        return [.. chunks];
    }

    private void Drain()
    {
        _sent.Clear();
        var pending = _member.TakeAsync(_sent, CancellationToken.None);
        if (!pending.IsCompleted)
            throw new InvalidOperationException("the pass queued nothing");
        pending.GetAwaiter().GetResult();
    }

    /// <summary>One chunk of changes through the group: diff, batch, encode, queue.</summary>
    [Benchmark(OperationsPerInvoke = Chunk)]
    public int Pass()
    {
        var chunks = _flip ? _first : _second;
        var chunk = chunks[_next];
        if (++_next == chunks.Length)
        {
            _next = 0;
            _flip = !_flip;
        }
        lock (_group.Sync)
            _group.Process(chunk);
        Drain();
        return _sent.Count;
    }
}
