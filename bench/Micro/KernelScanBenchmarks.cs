using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Benchmarks;

/// <summary>
/// The kernel protocol's periodic scan (issue #9): a dump of 10,000 routes parsed and compared with
/// the routes held from the last scan, as <c>KernelProtocol.ReadKernelAsync</c> does it (in-place
/// parse into <see cref="RouteFields"/>, <see cref="KernelRouteMapper.Keep"/>, the two dictionaries
/// changing places). The table does not change between scans, so nothing should be allocated per
/// route. <see cref="ParseIntoObjects"/> is the earlier way, one <see cref="KernelRouteSpec"/> per route.
/// </summary>
[MemoryDiagnoser]
public class KernelScanBenchmarks
{
    private const int Routes = 10_000;

    private byte[] _dump = [];
    private int[] _datagrams = [];
    private Dictionary<Prefix, KernelRouteSpec> _held = [];
    private Dictionary<Prefix, KernelRouteSpec> _read = [];
    private readonly List<KernelNextHop> _hops = [];

    /// <summary>Learned /32 routes (proto static, one next hop, as Calico's workload routes) or 4-way ECMP routes of ours.</summary>
    [Params("alien /32", "ours 4-way ECMP")]
    public string Shape { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var ecmp = Shape.StartsWith("ours", StringComparison.Ordinal);
        var routes = Enumerable.Range(0, Routes).Select(i => new KernelRouteSpec
        {
            Prefix = new Prefix(IpAddr.FromV4(0x0AE90000u + (uint)i), 32),
            Protocol = ecmp ? Rtnl.ProtoBird : Rtnl.ProtoStatic,
            Gateway = ecmp ? null : IpAddr.Parse("172.16.0.2"),
            OutInterfaceIndex = ecmp ? 0 : 2,
            NextHops = ecmp ? [.. Enumerable.Range(2, 4).Select(h => new KernelNextHop(IpAddr.FromV4(0xAC100000u + (uint)h), 2))] : default,
        }).ToList();
        // A dump as the kernel sends it: datagrams of about 32 KiB of RTM_NEWROUTE messages.
        using var w = new NetlinkWriter(Routes * 128);
        var ends = new List<int>();
        for (var i = 0; i < Routes; i++)
        {
            RouteMessage.WriteAdd(w, routes[i], (uint)i);
            if (w.Length - (ends.Count > 0 ? ends[^1] : 0) > 32 * 1024)
                ends.Add(w.Length);
        }
        ends.Add(w.Length);
        _dump = w.Written.ToArray();
        _datagrams = [.. ends];
        // The first scan builds the held routes; the measured ones find them unchanged.
        ScanAndCompare();
    }

    [Benchmark(OperationsPerInvoke = Routes)]
    public int ScanAndCompare()
    {
        _read.Clear();
        var start = 0;
        foreach (var end in _datagrams)
        {
            foreach (var m in new NetlinkMessageReader(_dump.AsSpan(start, end - start)))
            {
                if (!RouteMessage.TryParse(m.Payload, out RouteFields r, out var multipath))
                    continue;
                _hops.Clear();
                if (!multipath.IsEmpty)
                    RouteMessage.ReadHops(multipath, _hops);
                KernelRouteMapper.Keep(_read, _held, r, CollectionsMarshal.AsSpan(_hops));
            }
            start = end;
        }
        (_held, _read) = (_read, _held);
        return _held.Count;
    }

    [Benchmark(OperationsPerInvoke = Routes, Baseline = true)]
    public int ParseIntoObjects()
    {
        var found = 0;
        var start = 0;
        foreach (var end in _datagrams)
        {
            foreach (var m in new NetlinkMessageReader(_dump.AsSpan(start, end - start)))
            {
                if (RouteMessage.TryParse(m.Payload, out var r) && r.Table == Rtnl.TableMain)
                    found++;
            }
            start = end;
        }
        return found;
    }
}
