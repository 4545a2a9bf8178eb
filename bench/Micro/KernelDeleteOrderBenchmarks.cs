using BenchmarkDotNet.Attributes;
using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Benchmarks;

/// <summary>
/// The kernel protocol's reordering of a bulk delete (<see cref="KernelDeleteOrder.Scatter"/>, on stop
/// and prune), for 4,096 and 32,768 deletes: what the protocol pays per delete to spare the kernel its
/// trie resizing (~1 µs of kernel CPU per delete in P5, see RESULTS-kernel.md).
/// Each invocation scatters a fresh copy of the writes, in the order they were added (sorted) or
/// already scattered (only the check that they need no sorting runs).
/// </summary>
[MemoryDiagnoser]
public class KernelDeleteOrderBenchmarks
{
    [Params(4096, 32768)]
    public int Writes { get; set; }

    [Params(true, false)]
    public bool InOrder { get; set; }

    private RouteChange[] _ascending = [];
    private List<RouteChange> _changes = [];

    [GlobalSetup]
    public void Setup()
    {
        _ascending = [.. Enumerable.Range(0, Writes).Select(i => RouteChange.Delete(new KernelRouteSpec { Prefix = new Prefix(IpAddr.FromV4(0x0A000000u + ((uint)i << 8)), 24) }))];
        if (!InOrder)
            new Random(42).Shuffle(_ascending);
        _changes = new List<RouteChange>(Writes);
    }

    [IterationSetup]
    public void Refill()
    {
        _changes.Clear();
        _changes.AddRange(_ascending);
    }

    [Benchmark]
    public int Scatter()
    {
        KernelDeleteOrder.Scatter(_changes);
        return _changes.Count;
    }
}
