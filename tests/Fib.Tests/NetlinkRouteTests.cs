using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Fib.Tests;

/// <summary>Route shapes written over our own rtnetlink socket inside a lab namespace and read back with iproute2.</summary>
public sealed class NetlinkRouteTests
{
    private static async Task<(TestLab Lab, LabHost Host, RtNetlinkClient Nl, int Eth0, int Tunl0)> SetUpAsync(string name)
    {
        var lab = await TestLab.CreateAsync(name);
        var host = await lab.AddHostAsync("node");
        var peer = await lab.AddHostAsync("peer");
        await lab.ConnectAsync(host, "172.16.0.1/24", peer, "172.16.0.2/24", "eth0", "eth0");
        await host.AddAddressAsync("eth0", "fd00:16::1/64");
        (await host.IpAsync("link", "add", "tunl0", "type", "vxlan", "id", "42", "dstport", "4789")).ThrowIfFailed("tunl0");
        (await host.IpAsync("link", "set", "tunl0", "up")).ThrowIfFailed("tunl0 up");
        var nl = RtNetlinkClient.Open(host.Netns);
        var links = await nl.DumpLinksAsync(CancellationToken.None);
        return (lab, host, nl, links.Single(l => l.Name == "eth0").Index, links.Single(l => l.Name == "tunl0").Index);
    }

    private static KernelRouteSpec Spec(string prefix) => new() { Prefix = Prefix.Parse(prefix) };

    [Fact]
    public async Task Each_shape_is_written_and_read_back()
    {
        var (lab, host, nl, eth0, tunl0) = await SetUpAsync("shapes");
        await using var _ = lab;
        using var __ = nl;
        var gw = IpAddr.Parse("172.16.0.2");
        var results = await nl.ApplyAsync(
        [
            RouteChange.Add(Spec("10.233.89.0/24") with { Type = KernelRouteType.Blackhole }),
            RouteChange.Add(Spec("10.233.90.0/24") with { Type = KernelRouteType.Unreachable }),
            RouteChange.Add(Spec("10.233.68.0/24") with { Gateway = gw, OutInterfaceIndex = eth0 }),
            RouteChange.Add(Spec("10.233.69.0/24") with { Gateway = IpAddr.Parse("172.16.0.120"), OutInterfaceIndex = tunl0, Onlink = true }),
            RouteChange.Add(Spec("10.233.70.0/24") with { Gateway = gw, Metric = 1024 }),
            RouteChange.Add(Spec("10.233.71.0/24") with
            {
                NextHops = [new KernelNextHop(gw, eth0), new KernelNextHop(IpAddr.Parse("172.16.0.3"), eth0)],
            }),
        ], CancellationToken.None);
        Assert.All(results, r => Assert.True(r.IsOk, r.ToString()));

        var routes = (await host.RoutesAsync()).ToDictionary(r => r.Dst);
        var text = await host.RoutesTextAsync();
        Assert.Equal("blackhole", routes["10.233.89.0/24"].Type);
        Assert.Equal("bird", routes["10.233.89.0/24"].Protocol);
        Assert.Equal("unreachable", routes["10.233.90.0/24"].Type);
        Assert.Equal(("172.16.0.2", "eth0", "bird"), (routes["10.233.68.0/24"].Gateway, routes["10.233.68.0/24"].Dev, routes["10.233.68.0/24"].Protocol));
        var onlink = routes["10.233.69.0/24"];
        Assert.Equal(("172.16.0.120", "tunl0", true), (onlink.Gateway, onlink.Dev, onlink.IsOnlink));
        Assert.Equal(1024, routes["10.233.70.0/24"].Metric);
        Assert.Equal("eth0", routes["10.233.70.0/24"].Dev);
        Assert.Equal(["172.16.0.2", "172.16.0.3"], routes["10.233.71.0/24"].MultipathGateways.Order());

        // Our own dump reads the same routes back, matching what was written.
        var dumped = (await nl.DumpRoutesAsync(false, CancellationToken.None)).Where(r => r.Protocol == Rtnl.ProtoBird).ToDictionary(r => r.Prefix);
        Assert.Equal(6, dumped.Count);
        Assert.True(dumped[Prefix.Parse("10.233.69.0/24")].Onlink, text);
        Assert.Equal(tunl0, dumped[Prefix.Parse("10.233.69.0/24")].OutInterfaceIndex);
        Assert.Equal(2, dumped[Prefix.Parse("10.233.71.0/24")].NextHops.Length);
        Assert.True((Spec("10.233.71.0/24") with { NextHops = [new KernelNextHop(IpAddr.Parse("172.16.0.3"), eth0), new KernelNextHop(gw, eth0)] })
            .Matches(dumped[Prefix.Parse("10.233.71.0/24")]));

        var deleted = await nl.ApplyAsync([.. dumped.Values.Select(RouteChange.Delete)], CancellationToken.None);
        Assert.All(deleted, r => Assert.True(r.IsOk, r.ToString()));
        Assert.DoesNotContain(await host.RoutesAsync(), r => r.Protocol == "bird");
    }

    [Fact]
    public async Task Ipv6_gateway_route_is_written_and_read_back()
    {
        var (lab, host, nl, eth0, _) = await SetUpAsync("v6");
        await using var _ = lab;
        using var __ = nl;
        var results = await nl.ApplyAsync(
        [
            RouteChange.Add(Spec("fd00:233::/64") with { Gateway = IpAddr.Parse("fd00:16::2"), OutInterfaceIndex = eth0 }),
            RouteChange.Add(Spec("fd00:234::/64") with { Type = KernelRouteType.Blackhole }),
        ], CancellationToken.None);
        Assert.All(results, r => Assert.True(r.IsOk, r.ToString()));
        var routes = (await host.RoutesAsync(ipv6: true)).Where(r => r.Protocol == "bird").ToDictionary(r => r.Dst);
        Assert.Equal(("fd00:16::2", "eth0", "bird"), (routes["fd00:233::/64"].Gateway, routes["fd00:233::/64"].Dev, routes["fd00:233::/64"].Protocol));
        Assert.Equal("blackhole", routes["fd00:234::/64"].Type);
        var dumped = (await nl.DumpRoutesAsync(true, CancellationToken.None)).Where(r => r.Protocol == Rtnl.ProtoBird).ToList();
        Assert.Equal(2, dumped.Count);
        Assert.All(dumped, d => Assert.Equal(1024u, d.Metric));
    }

    [Fact]
    public async Task A_failing_write_reports_its_errno_and_the_rest_of_the_batch_is_applied()
    {
        var (lab, host, nl, _, _) = await SetUpAsync("fail");
        await using var _ = lab;
        using var __ = nl;
        var results = await nl.ApplyAsync(
        [
            RouteChange.Add(Spec("10.1.0.0/24") with { Type = KernelRouteType.Blackhole }),
            RouteChange.Add(Spec("10.2.0.0/24") with { Gateway = IpAddr.Parse("192.0.2.1") }),
            RouteChange.Add(Spec("10.3.0.0/24") with { Type = KernelRouteType.Blackhole }),
        ], CancellationToken.None);
        Assert.True(results[0].IsOk);
        Assert.Equal(Errno.Enetunreach, results[1].Errno);
        Assert.True(results[2].IsOk);
        var dsts = (await host.RoutesAsync()).Select(r => r.Dst).ToList();
        Assert.Contains("10.1.0.0/24", dsts);
        Assert.Contains("10.3.0.0/24", dsts);
        Assert.DoesNotContain("10.2.0.0/24", dsts);
    }

    [Fact]
    public async Task Ten_thousand_routes_are_installed_and_removed_in_batches()
    {
        var (lab, host, nl, eth0, _) = await SetUpAsync("batch");
        await using var _ = lab;
        using var __ = nl;
        var specs = Enumerable.Range(0, 10_000)
            .Select(i => new KernelRouteSpec { Prefix = new Prefix(IpAddr.FromV4(0x0A000000u + ((uint)i << 8)), 24), Gateway = IpAddr.Parse("172.16.0.2"), OutInterfaceIndex = eth0 })
            .ToList();
        var added = await nl.ApplyAsync([.. specs.Select(RouteChange.Add)], CancellationToken.None);
        Assert.All(added, r => Assert.True(r.IsOk, r.ToString()));
        Assert.Equal(10_000, (await host.RoutesAsync()).Count(r => r.Protocol == "bird"));
        Assert.Equal(10_000, (await nl.DumpRoutesAsync(false, CancellationToken.None)).Count(r => r.Protocol == Rtnl.ProtoBird));

        var removed = await nl.ApplyAsync([.. specs.Select(RouteChange.Delete)], CancellationToken.None);
        Assert.All(removed, r => Assert.True(r.IsOk, r.ToString()));
        Assert.DoesNotContain(await host.RoutesAsync(), r => r.Protocol == "bird");
    }

    [Fact]
    public async Task Failures_spread_over_many_sendmsg_calls_are_each_matched_to_their_route_without_acks_for_the_rest()
    {
        var (lab, host, nl, eth0, _) = await SetUpAsync("fail-many");
        await using var _ = lab;
        using var __ = nl;
        // Every seventh route and the very last one (the ACKed barrier of the last sendmsg) have a
        // gateway on no connected subnet: ENETUNREACH, answered without NLM_F_ACK being asked for.
        const int count = 5000;
        static bool Refused(int i) => i % 7 == 3 || i == count - 1;
        var specs = Enumerable.Range(0, count)
            .Select(i => new KernelRouteSpec
            {
                Prefix = new Prefix(IpAddr.FromV4(0x0A000000u + ((uint)i << 8)), 24),
                Gateway = IpAddr.Parse(Refused(i) ? "192.0.2.1" : "172.16.0.2"),
                OutInterfaceIndex = Refused(i) ? 0 : eth0,
            })
            .ToList();
        var results = await nl.ApplyAsync([.. specs.Select(RouteChange.Add)], CancellationToken.None);
        for (var i = 0; i < count; i++)
            Assert.True(Refused(i) ? results[i].Errno == Errno.Enetunreach : results[i].IsOk, $"route {i}: {results[i]}");
        var installed = (await nl.DumpRoutesAsync(false, CancellationToken.None)).Where(r => r.Protocol == Rtnl.ProtoBird).Select(r => r.Prefix).ToHashSet();
        Assert.Equal(specs.Where((_, i) => !Refused(i)).Select(s => s.Prefix).ToHashSet(), installed);

        // Deleting twice: the second time every request fails (ESRCH), the barrier too.
        var first = await nl.ApplyAsync([.. specs.Select(RouteChange.Delete)], CancellationToken.None);
        Assert.Equal(Enumerable.Range(0, count).Select(i => Refused(i) ? Errno.Esrch : 0), first.Select(r => r.Errno));
        var second = await nl.ApplyAsync([.. specs.Select(RouteChange.Delete)], CancellationToken.None);
        Assert.All(second, r => Assert.Equal(Errno.Esrch, r.Errno));
        Assert.DoesNotContain(await host.RoutesAsync(), r => r.Protocol == "bird");
    }

    [Fact]
    public async Task A_listener_of_a_client_does_not_hear_the_clients_own_writes_but_hears_everyone_elses()
    {
        var (lab, host, nl, _, _) = await SetUpAsync("listen-filter");
        await using var _ = lab;
        using var __ = nl;
        using var listener = nl.OpenListener([Rtnl.GroupIpv4Route])!;
        var ours = await nl.ApplyAsync([RouteChange.Add(Spec("10.1.0.0/24") with { Type = KernelRouteType.Blackhole })], CancellationToken.None);
        Assert.True(ours[0].IsOk);
        (await host.IpAsync("route", "add", "blackhole", "10.2.0.0/24", "proto", "static")).ThrowIfFailed("route by someone else");

        var buffer = new byte[64 * 1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var n = await listener.ReceiveAsync(buffer, timeout.Token);
        var heard = new List<(uint Port, Prefix Prefix)>();
        foreach (var m in new NetlinkMessageReader(buffer.AsSpan(0, n)))
        {
            if (m.Type == Rtnl.NewRoute && RouteMessage.TryParse(m.Payload, out var r))
                heard.Add((m.PortId, r.Prefix));
        }
        // Our write came first, yet the first notification read is the other writer's.
        Assert.Equal([Prefix.Parse("10.2.0.0/24")], heard.Select(h => h.Prefix));
        Assert.NotEqual(nl.PortId, heard[0].Port);
    }
    [Fact]
    public async Task A_blocking_receive_times_out_with_nothing_and_then_hears_a_route_notification()
    {
        var (lab, host, nl, eth0, _) = await SetUpAsync("sync-receive");
        await using var __ = lab;
        using var ___ = nl;
        using var listener = NetlinkSocket.Open(host.Netns, [Rtnl.GroupIpv4Route]);
        var buffer = new byte[64 * 1024];
        Assert.Equal(0, listener.Receive(buffer, 100));

        var added = await nl.ApplyAsync([RouteChange.Add(Spec("10.233.91.0/24") with { Gateway = IpAddr.Parse("172.16.0.2"), OutInterfaceIndex = eth0 })], CancellationToken.None);
        Assert.True(added[0].IsOk, added[0].ToString());

        // On a thread of its own, as the benchmark's route counter runs it; generous timeout, the machine is shared.
        var heard = await Task.Run(() =>
        {
            for (var attempt = 0; attempt < 50; attempt++)
            {
                var n = listener.Receive(buffer, 200);
                foreach (var m in new NetlinkMessageReader(buffer.AsSpan(0, n)))
                {
                    if (m.Type == Rtnl.NewRoute && RouteMessage.TryParse(m.Payload, out var r) && r.Prefix == Prefix.Parse("10.233.91.0/24"))
                        return r;
                }
            }
            return null;
        });
        Assert.NotNull(heard);
        Assert.Equal(Rtnl.ProtoBird, heard.Protocol);
    }
}
