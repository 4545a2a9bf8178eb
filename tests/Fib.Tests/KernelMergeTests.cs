using System.Collections.Immutable;
using Calico.Bgp.Fib.Interfaces;
using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Fib.Tests;

/// <summary>
/// <c>merge paths on</c> as the kernel protocol plans it (<see cref="KernelRouteMapper.MapMerged"/>):
/// the same ECMP set as the Rib's <see cref="DecisionProcess.MergePaths(RouteEntry, int)"/>, each
/// other path through the export filter, duplicates dropped, at most the limit.
/// </summary>
public sealed class KernelMergeTests
{
    private const string Prefix24 = "10.233.1.0/24";

    private static readonly InterfaceSnapshot Links = new([new InterfaceState(2, "eth0", "veth", Rtnl.IffUp, 1500, [])]);

    private sealed class RejectGateway(string gateway) : RouteFilter
    {
        public override string Name => "reject " + gateway;
        public override Route? Apply(Route route, AttributeCache cache) => route.Attributes.Gateway == IpAddr.Parse(gateway) ? null : route;
    }

    /// <summary>A table with one path per (owner, gateway, local pref), and its entry for the prefix.</summary>
    private static (RoutingTable Table, RouteEntry Entry) Entry(params (string Gateway, uint LocalPref)[] paths)
    {
        var table = new RoutingTable();
        for (var i = 0; i < paths.Length; i++)
        {
            var owner = new TestProtocol(table, $"Mesh_172_16_0_{i + 2}");
            table.Update(Route.Create(Prefix.Parse(Prefix24), table.Attributes.Intern(new PathAttributes
            {
                Source = RouteSource.Bgp,
                Dest = RouteDest.Router,
                NextHop = IpAddr.Parse(paths[i].Gateway),
                Gateway = IpAddr.Parse(paths[i].Gateway),
                LocalPref = paths[i].LocalPref,
            }), owner));
        }
        return (table, table.Find(Prefix.Parse(Prefix24))!);
    }

    private static KernelRouteSpec? Merged(RoutingTable table, RouteEntry entry, RouteFilter? filter = null, int limit = 16) =>
        KernelRouteMapper.MapMerged(entry.Prefix, entry, entry.Best!.Attributes,
            new MergeContext(filter ?? RouteFilter.AcceptAll, table.Attributes, null, Links, Rtnl.TableMain, limit), ImmutableArray.CreateBuilder<KernelNextHop>());

    private static string[] Gateways(KernelRouteSpec spec) => [.. spec.NextHops.Select(h => h.Gateway!.Value.ToString()).Order()];

    [Fact]
    public void Four_equal_paths_are_one_multipath_route_and_a_worse_one_stays_out()
    {
        var (table, entry) = Entry(("172.16.0.2", 100), ("172.16.0.3", 100), ("172.16.0.4", 100), ("172.16.0.5", 100), ("172.16.0.6", 50));
        var spec = Merged(table, entry)!;
        Assert.Equal(["172.16.0.2", "172.16.0.3", "172.16.0.4", "172.16.0.5"], Gateways(spec));
        Assert.Null(spec.Gateway);
        Assert.Equal(KernelRouteType.Unicast, spec.Type);
        // The same set as the Rib's own ECMP set.
        Assert.Equal(DecisionProcess.MergePaths(entry).Select(r => r.Attributes.Gateway!.Value.ToString()).Order(), Gateways(spec));
    }

    [Fact]
    public void The_limit_keeps_the_first_paths_in_the_entrys_order()
    {
        var (table, entry) = Entry(("172.16.0.2", 100), ("172.16.0.3", 100), ("172.16.0.4", 100), ("172.16.0.5", 100));
        var spec = Merged(table, entry, limit: 2)!;
        Assert.Equal(new[] { entry[0], entry[1] }.Select(r => r.Attributes.Gateway!.Value.ToString()).Order(), Gateways(spec));
    }

    [Fact]
    public void A_path_the_export_filter_rejects_and_a_repeated_gateway_add_no_hop()
    {
        var (table, entry) = Entry(("172.16.0.2", 100), ("172.16.0.3", 100), ("172.16.0.4", 100), ("172.16.0.4", 100));
        // The best path is never the one rejected here: the filter is asked of the other paths only.
        var rejected = entry[0].Attributes.Gateway!.Value.ToString() == "172.16.0.3" ? "172.16.0.2" : "172.16.0.3";
        var spec = Merged(table, entry, new RejectGateway(rejected))!;
        Assert.Equal(new[] { "172.16.0.2", "172.16.0.3", "172.16.0.4" }.Where(g => g != rejected), Gateways(spec));
    }

    [Fact]
    public void Nothing_to_merge_gives_the_single_path_route_map_gives()
    {
        var (table, entry) = Entry(("172.16.0.2", 100), ("172.16.0.3", 50));
        var spec = Merged(table, entry)!;
        Assert.False(spec.IsMultipath);
        Assert.Equal(KernelRouteMapper.Map(entry.Prefix, entry.Best!.Attributes, Links, Rtnl.TableMain, false), spec);
    }

    [Fact]
    public void Prefixes_behind_the_same_next_hops_share_one_hop_array_and_other_hops_get_their_own()
    {
        var (table, entry) = Entry(("172.16.0.2", 100), ("172.16.0.3", 100), ("172.16.0.4", 100));
        var context = new MergeContext(RouteFilter.AcceptAll, table.Attributes, null, Links, Rtnl.TableMain, 16);
        var scratch = ImmutableArray.CreateBuilder<KernelNextHop>();
        ImmutableArray<KernelNextHop> last = default;
        var first = KernelRouteMapper.MapMerged(Prefix.Parse("10.233.1.0/24"), entry, entry.Best!.Attributes, context, scratch, ref last)!;
        var second = KernelRouteMapper.MapMerged(Prefix.Parse("10.233.2.0/24"), entry, entry.Best!.Attributes, context, scratch, ref last)!;
        Assert.Equal(Prefix.Parse("10.233.2.0/24"), second.Prefix);
        Assert.Equal(3, second.NextHops.Length);
        Assert.True(first.NextHops == second.NextHops, "the same hops: one shared array");

        var (otherTable, otherEntry) = Entry(("172.16.0.2", 100), ("172.16.0.5", 100), ("172.16.0.4", 100));
        var otherContext = context with { Cache = otherTable.Attributes };
        var third = KernelRouteMapper.MapMerged(otherEntry.Prefix, otherEntry, otherEntry.Best!.Attributes, otherContext, scratch, ref last)!;
        Assert.False(third.NextHops == second.NextHops, "other hops: an array of their own");
        Assert.Equal(["172.16.0.2", "172.16.0.4", "172.16.0.5"], Gateways(third));
        // The first two keep their hops (an array is never changed once shared).
        Assert.Equal(["172.16.0.2", "172.16.0.3", "172.16.0.4"], Gateways(first));
        Assert.True(last == third.NextHops);
    }
}
