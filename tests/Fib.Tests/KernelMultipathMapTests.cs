using System.Collections.Immutable;
using Calico.Bgp.Fib.Interfaces;
using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Fib.Tests;

/// <summary>A path that carries several next hops (a multipath static route) as one kernel route.</summary>
public sealed class KernelMultipathMapTests
{
    private static readonly InterfaceSnapshot Links = new(
    [
        new InterfaceState(2, "eth0", "veth", Rtnl.IffUp, 1500, []),
        new InterfaceState(3, "eth1", "veth", Rtnl.IffUp, 1500, []),
    ]);

    private static PathAttributes Multipath(params MultipathHop[] hops) =>
        new() { Source = RouteSource.Static, Dest = RouteDest.Multipath, NextHops = [.. hops] };

    private static readonly MultipathHop A = new(IpAddr.Parse("10.0.1.2"), "eth0", 3);
    private static readonly MultipathHop B = new(IpAddr.Parse("10.0.2.2"), "eth1", 1);

    [Fact]
    public void Each_hop_keeps_its_gateway_interface_and_weight()
    {
        var spec = KernelRouteMapper.Map(Prefix.Parse("10.80.0.0/24"), Multipath(A, B), Links, Rtnl.TableMain, false);
        Assert.NotNull(spec);
        Assert.True(spec.IsMultipath);
        Assert.Null(spec.Gateway);
        Assert.Equal<KernelNextHop>([new(A.Gateway, 2, Weight: 3), new(B.Gateway, 3, Weight: 1)], spec.NextHops.ToArray());
    }

    [Fact]
    public void Routes_over_the_same_attributes_share_one_hop_array()
    {
        var a = Multipath(A, B);
        var first = KernelRouteMapper.Map(Prefix.Parse("10.80.0.0/24"), a, Links, Rtnl.TableMain, false)!;
        var second = KernelRouteMapper.Map(Prefix.Parse("10.80.1.0/24"), a, Links, Rtnl.TableMain, false)!;
        Assert.True(first.NextHops == second.NextHops, "one array for both routes");
    }

    [Fact]
    public void A_hop_on_a_vanished_interface_is_left_out_and_one_left_is_a_plain_route()
    {
        var gone = new MultipathHop(IpAddr.Parse("10.0.3.2"), "eth9", 2);
        var spec = KernelRouteMapper.Map(Prefix.Parse("10.80.0.0/24"), Multipath(A, gone), Links, Rtnl.TableMain, false);
        Assert.NotNull(spec);
        Assert.False(spec.IsMultipath);
        Assert.Equal((A.Gateway, 2), (spec.Gateway!.Value, spec.OutInterfaceIndex));
        Assert.Null(KernelRouteMapper.Map(Prefix.Parse("10.80.0.0/24"), Multipath(gone), Links, Rtnl.TableMain, false));
    }

    [Fact]
    public void A_read_back_route_with_other_weights_does_not_match()
    {
        var desired = KernelRouteMapper.Map(Prefix.Parse("10.80.0.0/24"), Multipath(A, B), Links, Rtnl.TableMain, false)!;
        var same = desired with { NextHops = [new(B.Gateway, 3, Weight: 1), new(A.Gateway, 2, Weight: 3)] };
        var reweighted = desired with { NextHops = [new(A.Gateway, 2, Weight: 1), new(B.Gateway, 3, Weight: 1)] };
        Assert.True(desired.Matches(same), "hop order does not matter");
        Assert.False(desired.Matches(reweighted));
    }
    /// <summary>A static protocol's stand-in: not a BGP session, so its routes merge with nothing (BIRD's rte_mergable).</summary>
    private sealed class StaticOwner(RoutingTable table) : Protocol("static1", table, TimeProvider.System, 200)
    {
        public override string TypeName => "Static";
        public override Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public override Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_kernel_protocol_writes_a_multipath_path_as_one_route_with_or_without_merge_paths(bool mergePaths)
    {
        var fake = new FakeRouteNetlink();
        fake.Links.Add(new LinkInfo(3, "eth1", "veth", Rtnl.IffUp | Rtnl.IffLowerUp, 1500, 1));
        var table = new RoutingTable();
        var owner = new StaticOwner(table);
        table.Update(Route.Create(Prefix.Parse("10.80.0.0/24"), table.Attributes.Intern(Multipath(A, B)), owner));
        // A BGP path for the same prefix, less preferred: it neither wins nor joins the static route's hops.
        table.Update(TestRoutes.Bgp(table, new TestProtocol(table), "10.80.0.0/24", "10.0.9.9"));
        var kernel = new KernelProtocol(new KernelProtocolOptions { Name = "kernel1", ExportFilter = RouteFilter.AcceptAll, ScanTime = 60, MergePaths = mergePaths },
            table, TimeProvider.System, NullLoggerFactory.Instance, () => fake);
        await kernel.StartAsync(CancellationToken.None);
        try
        {
            await Wait.UntilAsync(() => fake.Find("10.80.0.0/24") is not null, TimeSpan.FromSeconds(10), "route written");
            var spec = fake.Find("10.80.0.0/24")!;
            Assert.Equal<KernelNextHop>([new(A.Gateway, 2, Weight: 3), new(B.Gateway, 3, Weight: 1)], spec.NextHops.ToArray());
        }
        finally
        {
            await kernel.StopAsync(CancellationToken.None);
        }
    }
}
