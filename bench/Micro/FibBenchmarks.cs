using BenchmarkDotNet.Attributes;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Benchmarks;

/// <summary>
/// The netlink codec's cost per route: RTM_NEWROUTE encoding into the batching writer (as
/// <see cref="RtNetlinkClient"/> fills a 64 KiB sendmsg; 0 B allocated per route) and parsing a
/// route dump back (one <see cref="KernelRouteSpec"/> per route, the only allocation).
/// </summary>
[MemoryDiagnoser]
public class FibBenchmarks
{
    private const int Routes = 100_000;

    private KernelRouteSpec[] _single = [];
    private KernelRouteSpec[] _ecmp = [];
    private NetlinkWriter _writer = null!;
    private byte[] _dump = [];
    private int[] _datagrams = [];

    [GlobalSetup]
    public void Setup()
    {
        var gw = IpAddr.Parse("172.16.0.2");
        _single = [.. Enumerable.Range(0, Routes).Select(i => new KernelRouteSpec
        {
            Prefix = new Prefix(IpAddr.FromV4(0x0A000000u + ((uint)i << 8)), 24),
            Gateway = gw,
            OutInterfaceIndex = 2,
            Metric = 1024,
        })];
        _ecmp = [.. _single.Select(r => r with
        {
            Gateway = null,
            NextHops = [.. Enumerable.Range(2, 4).Select(h => new KernelNextHop(IpAddr.FromV4(0xAC100000u + (uint)h), 2))],
        })];
        _writer = new NetlinkWriter(RtNetlinkClient.BatchBytes + 4096);

        // A dump as the kernel sends it: datagrams of many RTM_NEWROUTE messages.
        using var w = new NetlinkWriter(Routes * 80);
        var ends = new List<int>();
        for (var i = 0; i < Routes; i++)
        {
            RouteMessage.WriteAdd(w, _single[i], (uint)i);
            if (w.Length - (ends.Count > 0 ? ends[^1] : 0) > 32 * 1024)
                ends.Add(w.Length);
        }
        ends.Add(w.Length);
        _dump = w.Written.ToArray();
        _datagrams = [.. ends];
    }

    [GlobalCleanup]
    public void Cleanup() => _writer.Dispose();

    [Benchmark(OperationsPerInvoke = Routes)]
    public int EncodeNewRouteSingle() => Encode(_single);

    [Benchmark(OperationsPerInvoke = Routes)]
    public int EncodeNewRouteEcmp4() => Encode(_ecmp);

    private int Encode(KernelRouteSpec[] routes)
    {
        var w = _writer;
        var bytes = 0;
        w.Clear();
        for (var i = 0; i < routes.Length; i++)
        {
            // The client's batching: a sendmsg's worth, then start over in the same buffer.
            if (w.Length >= RtNetlinkClient.BatchBytes)
            {
                bytes += w.Length;
                w.Clear();
            }
            RouteMessage.WriteAdd(w, routes[i], (uint)i);
        }
        return bytes + w.Length;
    }

    [Benchmark(OperationsPerInvoke = Routes)]
    public int ParseRouteDump()
    {
        var found = 0;
        var start = 0;
        foreach (var end in _datagrams)
        {
            foreach (var m in new NetlinkMessageReader(_dump.AsSpan(start, end - start)))
            {
                if (RouteMessage.TryParse(m.Payload, out var r) && r.Protocol == Rtnl.ProtoBird)
                    found++;
            }
            start = end;
        }
        return found;
    }
}
