using Calico.Bgp.Fib.Interfaces;
using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Fib.Tests;

public sealed class KernelRouteMapperTests
{
    private static readonly InterfaceSnapshot Links = new(
    [
        new InterfaceState(2, "eth0", "veth", Rtnl.IffUp, 1500, []),
        new InterfaceState(3, "tunl0", "vxlan", Rtnl.IffUp, 1480, []),
    ]);

    private static PathAttributes Bgp(string? tunnel) => new()
    {
        Source = RouteSource.Bgp,
        Dest = RouteDest.Router,
        NextHop = IpAddr.Parse("172.16.0.120"),
        Gateway = IpAddr.Parse("172.16.0.120"),
        KrtTunnel = tunnel,
    };

    [Fact]
    public void Krt_tunnel_naming_an_existing_interface_is_an_onlink_route_through_it()
    {
        var spec = KernelRouteMapper.Map(Prefix.Parse("10.233.68.0/24"), Bgp("tunl0"), Links, Rtnl.TableMain, false);
        Assert.NotNull(spec);
        Assert.Equal((IpAddr.Parse("172.16.0.120"), 3, true), (spec.Gateway!.Value, spec.OutInterfaceIndex, spec.Onlink));
    }

    [Theory]
    [InlineData("tunl9")]
    [InlineData("")]
    [InlineData(null)]
    public void Krt_tunnel_naming_no_interface_falls_back_to_the_plain_gateway_route(string? tunnel)
    {
        var spec = KernelRouteMapper.Map(Prefix.Parse("10.233.68.0/24"), Bgp(tunnel), Links, Rtnl.TableMain, false);
        Assert.NotNull(spec);
        Assert.Equal((IpAddr.Parse("172.16.0.120"), 0, false), (spec.Gateway!.Value, spec.OutInterfaceIndex, spec.Onlink));
    }

    [Theory]
    [InlineData(RouteDest.Blackhole, KernelRouteType.Blackhole)]
    [InlineData(RouteDest.Unreachable, KernelRouteType.Unreachable)]
    [InlineData(RouteDest.Prohibit, KernelRouteType.Prohibit)]
    public void Reject_shapes_map_to_their_route_type_without_a_gateway(RouteDest dest, KernelRouteType type)
    {
        var spec = KernelRouteMapper.Map(Prefix.Parse("10.0.0.0/24"), new PathAttributes { Source = RouteSource.Static, Dest = dest, KrtTunnel = "tunl0" }, Links, Rtnl.TableMain, false);
        Assert.NotNull(spec);
        Assert.Equal((type, (IpAddr?)null, 0), (spec.Type, spec.Gateway, spec.OutInterfaceIndex));
    }

    [Fact]
    public void Ipv6_siblings_listed_apart_join_into_one_multipath_route()
    {
        var a = new KernelRouteSpec { Prefix = Prefix.Parse("fd00:233::/64"), Gateway = IpAddr.Parse("fd00:16::2"), OutInterfaceIndex = 2, Metric = 1024 };
        var b = a with { Gateway = IpAddr.Parse("fd00:16::3") };
        var joined = KernelRouteMapper.JoinSiblings(a, b);
        Assert.NotNull(joined);
        Assert.Equal(["fd00:16::2", "fd00:16::3"], joined.NextHops.Select(h => h.Gateway.ToString()));
        var desired = new KernelRouteSpec { Prefix = a.Prefix, NextHops = [new(IpAddr.Parse("fd00:16::3"), 2), new(IpAddr.Parse("fd00:16::2"), 2)] };
        Assert.True(desired.Matches(joined));
        // Another metric is another route, and IPv4 never lists siblings apart.
        Assert.Null(KernelRouteMapper.JoinSiblings(a, b with { Metric = 5 }));
        var v4 = new KernelRouteSpec { Prefix = Prefix.Parse("10.0.0.0/24"), Gateway = IpAddr.Parse("172.16.0.2") };
        Assert.Null(KernelRouteMapper.JoinSiblings(v4, v4 with { Gateway = IpAddr.Parse("172.16.0.3") }));
    }
}
