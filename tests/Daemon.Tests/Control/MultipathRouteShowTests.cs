using Calico.Bgp.Rib;

namespace Calico.Bgp.Daemon.Tests.Control;

/// <summary>
/// A multipath route in <c>show route</c>: BIRD 1.6's rt_show_rte prints <c>multipath</c> as the
/// destination and one <c>\tvia GW on IF weight N</c> line per next hop under it, all code 1007, before
/// the <c>show route all</c> attributes (the same lines as BIRD 1.6's, StaticMultipathDaemonTests).
/// </summary>
public class MultipathRouteShowTests
{
    private static string Run(string command)
    {
        var backend = NodeATopology.Build(out var time);
        time.Now = ManualTime.At("11:04:47");
        var static1 = backend.Protocols.Single(p => p.Name == "static1");
        var attrs = new PathAttributes
        {
            Source = RouteSource.Static,
            Dest = RouteDest.Multipath,
            NextHops = [new MultipathHop(IpAddr.Parse("10.99.0.1"), "eth0", 3), new MultipathHop(IpAddr.Parse("10.98.0.1"), "eth1")],
        };
        backend.Table.Update(Route.Create(Prefix.Parse("10.80.0.0/24"), backend.Table.Attributes.Intern(attrs), static1, since: ManualTime.At("10:59:43")));
        return Transcript.Run(backend, time, command);
    }

    [Fact]
    public void Show_route_lists_each_next_hop_under_the_route()
    {
        Assert.Equal(
            "1007-10.80.0.0/24       multipath [static1 10:59:43] * (200)\n" +
            " \tvia 10.99.0.1 on eth0 weight 3\n" +
            " \tvia 10.98.0.1 on eth1 weight 1\n" +
            "0000 \n",
            Run("show route 10.80.0.0/24"));
    }

    [Fact]
    public void Show_route_all_puts_the_attributes_after_the_next_hops()
    {
        Assert.Equal(
            "1007-10.80.0.0/24       multipath [static1 10:59:43] * (200)\n" +
            " \tvia 10.99.0.1 on eth0 weight 3\n" +
            " \tvia 10.98.0.1 on eth1 weight 1\n" +
            "1008-\tType: static unicast univ\n" +
            "0000 \n",
            Run("show route all 10.80.0.0/24"));
    }
}
