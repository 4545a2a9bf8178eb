using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;
using Calico.Bgp.Fib.Interfaces;
using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Benchmarks;

/// <summary>
/// The kernel protocol's plan of a <c>merge paths on</c> prefix (P5's 4-way ECMP shape): the route
/// wanted for a table entry of four equally good iBGP paths. <see cref="MapMerged"/> is what
/// <c>KernelProtocol.ComputeDesired</c> runs now (the entry walked in place, a reused hop builder: its
/// route and its hop array are all it allocates); <see cref="MergePathsThenBuild"/> is the earlier way
/// (a single-path route, the Rib's merge array, a new builder, a copy of the route with the hops).
/// </summary>
[MemoryDiagnoser]
public class KernelMergeBenchmarks
{
    private const int Prefixes = 10_000;

    private RouteEntry[] _entries = [];
    private PathAttributes[] _best = [];
    private MergeContext _context;
    private readonly ImmutableArray<KernelNextHop>.Builder _scratch = ImmutableArray.CreateBuilder<KernelNextHop>();

    [GlobalSetup]
    public void Setup()
    {
        var table = new RoutingTable();
        var owners = Enumerable.Range(0, 4).Select(i => new RibBenchProtocol($"Mesh_{i}", table, 2 + (uint)i)).ToArray();
        var attrs = owners.Select((_, i) => table.Attributes.Intern(RibBenchProtocol.Attributes() with
        {
            Dest = RouteDest.Router,
            NextHop = IpAddr.FromV4(0xAC100002u + (uint)i),
            Gateway = IpAddr.FromV4(0xAC100002u + (uint)i),
        })).ToArray();
        for (var p = 0; p < Prefixes; p++)
        {
            for (var o = 0; o < owners.Length; o++)
                table.Update(Route.Create(RibBenchProtocol.PrefixAt(p), attrs[o], owners[o]));
        }
        _entries = [.. Enumerable.Range(0, Prefixes).Select(p => table.Find(RibBenchProtocol.PrefixAt(p))!)];
        _best = [.. _entries.Select(e => e.Best!.Attributes)];
        _context = new MergeContext(RouteFilter.AcceptAll, table.Attributes, null, InterfaceSnapshot.Empty, 254, 16);
    }

    [Benchmark(OperationsPerInvoke = Prefixes)]
    public int MapMerged()
    {
        var hops = 0;
        for (var i = 0; i < _entries.Length; i++)
            hops += KernelRouteMapper.MapMerged(_entries[i].Prefix, _entries[i], _best[i], _context, _scratch)!.NextHops.Length;
        return hops;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Prefixes)]
    public int MergePathsThenBuild()
    {
        var hops = 0;
        for (var i = 0; i < _entries.Length; i++)
        {
            var entry = _entries[i];
            var spec = KernelRouteMapper.Map(entry.Prefix, _best[i], _context.Links, _context.Table, false)!;
            var merged = DecisionProcess.MergePaths(entry, _context.Limit);
            var builder = ImmutableArray.CreateBuilder<KernelNextHop>(merged.Length);
            builder.Add(new KernelNextHop(spec.Gateway, spec.OutInterfaceIndex, spec.Onlink));
            for (var m = 1; m < merged.Length; m++)
            {
                if (_context.Filter.Apply(merged[m], _context.Cache) is { Attributes: { Dest: RouteDest.Router } e } && KernelRouteMapper.TryMapHop(e, _context.Links, out var hop))
                    KernelRouteMapper.AddHop(builder, hop);
            }
            hops += KernelRouteMapper.WithHops(spec, builder).NextHops.Length;
        }
        return hops;
    }
}
