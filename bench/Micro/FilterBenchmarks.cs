using BenchmarkDotNet.Attributes;
using Calico.Bgp.Config;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Benchmarks;

/// <summary>Cost per route of Calico's kernel filter and per-peer export filter (compiled closures).</summary>
[MemoryDiagnoser]
public class FilterBenchmarks
{
    private const string Config = """
        function apply_communities () { }
        function calico_aggr () {
          if ( net = 192.168.221.192/26 ) then { accept; }
          if ( net ~ 192.168.221.192/26 && krt_metric < 1024 ) then { accept; }
          if ( net ~ 192.168.221.192/26 ) then { reject; }
        }
        function calico_export_to_bgp_peers(bool internal_peer) {
          if (internal_peer) then {
            if (defined(ifname)) then {
              if ((ifname ~ "*.cali") || (ifname ~ "*.calico") || (ifname ~ "tunl0")) then { reject; }
            }
          }
          apply_communities();
          calico_aggr();
          if (net ~ 192.168.0.0/16) then { accept; }
        }
        filter calico_kernel_programming {
          if (defined(source) && (source = RTS_BGP) && !defined(krt_metric)) then {
            krt_metric = 1024;
            if (defined(bgp_local_pref)) then { krt_metric = 2147483647 - bgp_local_pref; }
            if (krt_metric < 1024) then { preference = 200; }
          }
          if (net ~ 10.96.0.0/12) then { reject; }
          accept;
        }
        filter communities {
          if ((65000, 100) ~ bgp_community) then { bgp_local_pref = 2147483547; }
          bgp_community.add((5663, 12));
          bgp_large_community.add((50, 50, 5364));
          accept;
        }
        protocol bgp Mesh_10_192_0_3 {
          local as 64512;
          neighbor 10.192.0.3 as 64512;
          export filter {
            if (defined(source) && source = RTS_BGP && defined(bgp_local_pref)) then {
              krt_metric = 2147483647 - bgp_local_pref;
            } else {
              if (!defined(krt_metric)) then { krt_metric = 1024; }
              bgp_local_pref = 2147483647 - krt_metric;
            }
            calico_export_to_bgp_peers(true);
            reject;
          };
        }
        """;

    private RouteFilter _kernel = null!;
    private RouteFilter _export = null!;
    private RouteFilter _communities = null!;
    private Route _bgpRoute = null!;
    private Route _staticRoute = null!;
    private Route _serviceRoute = null!;
    private readonly AttributeCache _cache = new();

    [GlobalSetup]
    public void Setup()
    {
        var config = ConfigLoader.Parse(Config, "bench.cfg");
        _kernel = config.Filters["calico_kernel_programming"].Filter;
        _export = config.Protocols[0].ExportFilter;
        _communities = config.Filters["communities"].Filter;
        var protocol = new BenchProtocol();
        _bgpRoute = Route.Create(Prefix.Parse("192.168.5.0/26"), _cache.Intern(new PathAttributes
        {
            Source = RouteSource.Bgp,
            Dest = RouteDest.Router,
            NextHop = IpAddr.Parse("10.192.0.4"),
            Gateway = IpAddr.Parse("10.192.0.4"),
            LocalPref = 100,
            AsPath = AsPath.Empty,
            Origin = BgpOrigin.Igp,
        }), protocol);
        // A BGP route in the service range: the kernel filter writes krt_metric, then rejects it.
        _serviceRoute = Route.Create(Prefix.Parse("10.96.0.0/24"), _bgpRoute.Attributes, protocol);
        _staticRoute = Route.Create(Prefix.Parse("192.168.221.192/26"),
            _cache.Intern(new PathAttributes { Source = RouteSource.Static, Dest = RouteDest.Blackhole }), protocol);
    }

    [Benchmark]
    public Route? KernelFilterBgpRoute() => _kernel.Apply(_bgpRoute, _cache);

    [Benchmark]
    public Route? KernelFilterRejectedAfterWrite() => _kernel.Apply(_serviceRoute, _cache);

    [Benchmark]
    public Route? ExportFilterStaticBlock() => _export.Apply(_staticRoute, _cache);

    [Benchmark]
    public Route? ExportFilterBgpRoute() => _export.Apply(_bgpRoute, _cache);

    /// <summary>Reads the community list, adds a community and a large community (Calico's configured communities).</summary>
    [Benchmark]
    public Route? CommunityFilterBgpRoute() => _communities.Apply(_bgpRoute, _cache);

    private sealed class BenchProtocol() : Protocol("bench1", new RoutingTable(), TimeProvider.System, 100)
    {
        public override string TypeName => "Bench";
        public override Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public override Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
