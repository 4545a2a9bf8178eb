using System.Collections.Immutable;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Rib.Tests;

/// <summary>
/// Next hops resolved through a table (<c>gateway recursive</c>, BIRD's hostcache): the longest
/// covering prefix with a route decides, one level of indirection only, and a change of a prefix that
/// could decide one makes the cache look again and say which next hops now resolve differently.
/// </summary>
public class HostCacheTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly RoutingTable _table = new();
    private readonly TestProtocol _direct;
    private readonly TestProtocol _static;
    private readonly TestProtocol _bgp;

    public HostCacheTests()
    {
        _direct = new TestProtocol("direct1", _table, 240);
        _static = new TestProtocol("static1", _table, 200);
        _bgp = new TestProtocol("bgp1", _table, 100, new BgpPeerIdentity(IpAddr.Parse("10.1.0.9"), 9, false));
    }

    private static IpAddr Ip(string s) => IpAddr.Parse(s);

    private void Connected(string prefix, string device) =>
        _table.Update(Route.Create(Prefix.Parse(prefix), new PathAttributes { Source = RouteSource.Device, Dest = RouteDest.Device, Interface = device }, _direct));

    private void Via(string prefix, string gateway, string device) =>
        _table.Update(Route.Create(Prefix.Parse(prefix), new PathAttributes { Source = RouteSource.Static, Dest = RouteDest.Router, Gateway = Ip(gateway), Interface = device }, _static));

    private void Static(string prefix, RouteDest dest) =>
        _table.Update(Route.Create(Prefix.Parse(prefix), new PathAttributes { Source = RouteSource.Static, Dest = dest }, _static));

    [Fact]
    public void A_next_hop_on_a_connected_network_is_its_own_gateway_on_that_interface_at_cost_zero()
    {
        Connected("10.1.0.0/24", "eth0");
        var r = _table.Hosts.Resolve(Ip("10.1.0.5"));
        Assert.Equal(new HostResolution(RouteDest.Router, null, "eth0", default, 0, 24), r);
        Assert.True(r.Resolvable);
        // The route through it forwards to the next hop itself.
        Assert.Equal(Ip("10.1.0.5"), r.ApplyTo(new PathAttributes { Source = RouteSource.Bgp, NextHop = Ip("10.1.0.5") }).Gateway);
    }

    [Fact]
    public void A_next_hop_behind_a_router_takes_the_longest_covering_routes_gateway_at_unknown_cost()
    {
        Connected("10.1.0.0/24", "eth0");
        Via("0.0.0.0/0", "10.1.0.254", "eth0");
        Via("10.225.0.4/32", "10.1.0.1", "eth0");
        Assert.Equal(new HostResolution(RouteDest.Router, Ip("10.1.0.1"), "eth0", default, PathAttributes.IgpMetricUnknown, 32), _table.Hosts.Resolve(Ip("10.225.0.4")));
        // Another address of that /24 is not covered by the /32: the default route decides.
        Assert.Equal(new HostResolution(RouteDest.Router, Ip("10.1.0.254"), "eth0", default, PathAttributes.IgpMetricUnknown, 0), _table.Hosts.Resolve(Ip("10.225.0.5")));
    }

    [Fact]
    public void Nothing_covering_it_a_blackhole_or_a_route_resolved_itself_leaves_a_next_hop_unresolvable()
    {
        Assert.Equal(HostResolution.None, _table.Hosts.Resolve(Ip("192.0.2.1")));
        Assert.False(HostResolution.None.Resolvable);

        Static("198.51.100.0/24", RouteDest.Blackhole);
        var blackhole = _table.Hosts.Resolve(Ip("198.51.100.7"));
        Assert.Equal(RouteDest.Blackhole, blackhole.Dest);
        Assert.False(blackhole.Resolvable);

        // A BGP route itself resolved through the table covers the next hop more closely than the
        // connected network does: one level only, so the next hop is unresolvable (BIRD warns and does the same).
        Connected("10.1.0.0/24", "eth0");
        var recursive = new PathAttributes { Source = RouteSource.Bgp, Dest = RouteDest.Router, Gateway = Ip("10.1.0.9"), Interface = "eth0", NextHop = Ip("10.1.0.9"), Recursive = true };
        _table.Update(Route.Create(Prefix.Parse("10.1.0.64/26"), recursive, _bgp));
        var r = _table.Hosts.Resolve(Ip("10.1.0.70"));
        Assert.Equal(RouteDest.Unreachable, r.Dest);
        Assert.Equal(26, r.MatchLength);
        // The same next hop in the connected /24 outside the /26 resolves.
        Assert.Equal(RouteDest.Router, _table.Hosts.Resolve(Ip("10.1.0.5")).Dest);
    }

    [Fact]
    public async Task An_address_of_our_own_is_no_gateway_and_the_cache_looks_again_when_our_addresses_change()
    {
        Connected("10.1.0.0/24", "eth0");
        var ours = new HashSet<IpAddr> { Ip("10.1.0.3") };
        _table.Hosts.IsLocalAddress = (address, device) => device == "eth0" && ours.Contains(address);
        var r = _table.Hosts.Resolve(Ip("10.1.0.3"));
        Assert.Equal((RouteDest.Unreachable, 24), (r.Dest, r.MatchLength));
        Assert.Equal(RouteDest.Router, _table.Hosts.Resolve(Ip("10.1.0.4")).Dest);

        // The address goes from the interface; nothing in the table changed, so the daemon says so.
        ours.Clear();
        _table.Hosts.Invalidate();
        await WaitAsync(() => _table.Hosts.Resolve(Ip("10.1.0.3")).Dest == RouteDest.Router);
    }

    [Fact]
    public void A_multipath_route_lends_its_next_hops_and_an_ipv6_link_local_companion_is_the_gateway_on_a_link()
    {
        var hops = ImmutableArray.Create(new MultipathHop(Ip("10.1.0.1"), "eth0"), new MultipathHop(Ip("10.2.0.1"), "eth1"));
        _table.Update(Route.Create(Prefix.Parse("10.50.0.0/16"), new PathAttributes { Source = RouteSource.Static, Dest = RouteDest.Multipath, NextHops = hops }, _static));
        var r = _table.Hosts.Resolve(Ip("10.50.3.3"));
        Assert.Equal(RouteDest.Multipath, r.Dest);
        Assert.Equal(hops, r.NextHops);

        Connected("2001:db8::/64", "eth0");
        var v6 = _table.Hosts.Resolve(Ip("2001:db8::5"));
        Assert.Equal(new HostResolution(RouteDest.Router, null, "eth0", default, 0, 64), v6);
        var received = new PathAttributes { Source = RouteSource.Bgp, NextHop = Ip("2001:db8::5"), NextHopLinkLocal = Ip("fe80::5") };
        Assert.Equal((Ip("fe80::5"), "eth0"), (v6.ApplyTo(received).Gateway!.Value, v6.ApplyTo(received).Interface));
    }

    [Fact]
    public void Applying_a_resolution_sets_how_the_route_forwards_and_keeps_its_bgp_attributes()
    {
        var received = new PathAttributes { Source = RouteSource.Bgp, Dest = RouteDest.Router, Gateway = Ip("10.225.0.4"), NextHop = Ip("10.225.0.4"), LocalPref = 150 };
        var via = new HostResolution(RouteDest.Router, Ip("10.1.0.1"), "eth0", default, PathAttributes.IgpMetricUnknown, 32);
        var resolved = via.ApplyTo(received);
        Assert.Equal(received with { Gateway = Ip("10.1.0.1"), Interface = "eth0", IgpMetric = PathAttributes.IgpMetricUnknown, Recursive = true }, resolved);
        Assert.Same(resolved, via.ApplyTo(resolved));

        var unreachable = HostResolution.None.ApplyTo(resolved);
        Assert.Equal(RouteDest.Unreachable, unreachable.Dest);
        Assert.True(unreachable.NextHopUnresolved);
        Assert.Null(unreachable.Gateway);
        Assert.Null(unreachable.Interface);
        Assert.Equal(Ip("10.225.0.4"), unreachable.NextHop);
        Assert.Equal(150u, unreachable.LocalPref);
    }

    [Fact]
    public async Task A_change_that_decides_a_next_hop_anew_is_reported_and_changes_elsewhere_are_not_looked_at()
    {
        Connected("10.1.0.0/24", "eth0");
        var changes = new List<IReadOnlySet<IpAddr>>();
        _table.Hosts.Changed += set => { lock (changes) changes.Add(set); };
        Assert.Equal(RouteDest.Unreachable, _table.Hosts.Resolve(Ip("10.225.0.4")).Dest);
        Assert.Equal(24, _table.Hosts.Resolve(Ip("10.1.0.5")).MatchLength);

        // Routes that cannot decide either next hop: other prefixes, and ones shorter than the
        // connected /24 that decides 10.1.0.5 (10.225.0.4, covered by nothing, is decided at any length).
        for (var i = 0; i < 1000; i++)
            Static($"10.{100 + i / 256}.{i % 256}.0/24", RouteDest.Blackhole);
        Static("10.1.0.0/16", RouteDest.Blackhole);
        Assert.Equal(0, _table.Hosts.Refreshes);
        Assert.Equal(24, _table.Hosts.Resolve(Ip("10.1.0.5")).MatchLength);

        // The route Calico's reachable_by adds for a peer behind a router.
        Via("10.225.0.4/32", "10.1.0.1", "eth0");
        await WaitAsync(() => _table.Hosts.Resolve(Ip("10.225.0.4")).Dest == RouteDest.Router);
        Assert.Equal(Ip("10.1.0.1"), _table.Hosts.Resolve(Ip("10.225.0.4")).Gateway);
        await WaitAsync(() => Count(changes) == 1);
        lock (changes)
            Assert.Equal([Ip("10.225.0.4")], changes[0]);

        // Its gateway changes, then it goes: each is seen.
        Via("10.225.0.4/32", "10.1.0.2", "eth0");
        await WaitAsync(() => _table.Hosts.Resolve(Ip("10.225.0.4")).Gateway == Ip("10.1.0.2"));
        Assert.True(_table.Withdraw(Prefix.Parse("10.225.0.4/32"), _static));
        await WaitAsync(() => _table.Hosts.Resolve(Ip("10.225.0.4")).Dest == RouteDest.Unreachable);

        // A longer prefix inside the connected network decides 10.1.0.5 anew.
        Via("10.1.0.4/30", "10.1.0.1", "eth0");
        await WaitAsync(() => _table.Hosts.Resolve(Ip("10.1.0.5")).MatchLength == 30);
        Assert.Equal(Ip("10.1.0.1"), _table.Hosts.Resolve(Ip("10.1.0.5")).Gateway);
        await WaitAsync(() => Count(changes) == 4);
    }

    [Theory]
    [InlineData("192.0.2.77", "0.0.0.0/0")]
    [InlineData("192.0.2.77", "192.0.0.0/8")]
    [InlineData("192.0.2.77", "192.0.0.0/16")]
    [InlineData("192.0.2.77", "192.0.2.64/26")]
    [InlineData("2001:db8:1::5", "::/0")]
    [InlineData("2001:db8:1::5", "2001::/16")]
    [InlineData("2001:db8:1::5", "2001:db8::/32")]
    [InlineData("2001:db8:1::5", "2001:db8:1::/48")]
    public async Task A_route_of_any_length_in_either_family_that_covers_an_unresolved_next_hop_resolves_it(string nextHop, string covering)
    {
        var gateway = Ip(nextHop).IsV6 ? Ip("fe80::1") : Ip("10.1.0.1");
        Assert.Equal(RouteDest.Unreachable, _table.Hosts.Resolve(Ip(nextHop)).Dest);
        // Routes beside it, in another block and of the other family, change nothing.
        Via(Ip(nextHop).IsV6 ? "2001:db9::/32" : "198.51.0.0/16", Ip(nextHop).IsV6 ? "fe80::2" : "10.1.0.2", "eth0");
        Via(Ip(nextHop).IsV6 ? "10.0.0.0/8" : "2001:db8::/32", Ip(nextHop).IsV6 ? "10.1.0.2" : "fe80::2", "eth0");
        Assert.Equal(0, _table.Hosts.Refreshes);
        Via(covering, gateway.ToString(), "eth0");
        await WaitAsync(() => _table.Hosts.Resolve(Ip(nextHop)).Gateway == gateway);
        Assert.Equal(Prefix.Parse(covering).Length, _table.Hosts.Resolve(Ip(nextHop)).MatchLength);
    }

    [Fact]
    public async Task A_next_hop_first_asked_for_while_the_route_that_decides_it_arrives_still_follows_it()
    {
        // The race a lookup has with the writers: the cache looks a new next hop up, and before it has
        // said which changes concern it, a writer publishes one that does. Each round starts both at
        // once, on a next hop of its own; whichever goes first, the cache must end via the new route.
        // (A lookup outside the writer's lock loses this race in some rounds: checked by mutation.)
        Connected("10.0.0.0/8", "eth0");
        var via = _table.Attributes.Intern(new PathAttributes { Source = RouteSource.Static, Dest = RouteDest.Router, Gateway = Ip("10.255.0.1"), Interface = "eth0" });
        for (var round = 0; round < 500; round++)
        {
            var host = IpAddr.FromV4(0x0A010000u + (uint)round);
            using var start = new Barrier(2);
            var asker = Task.Run(() =>
            {
                start.SignalAndWait();
                _table.Hosts.Resolve(host);
            });
            var writer = Task.Run(() =>
            {
                start.SignalAndWait();
                _table.Update(Route.Create(new Prefix(host, 32), via, _static));
            });
            await Task.WhenAll(asker, writer);
            await WaitAsync(() => _table.Hosts.Resolve(host).Gateway == Ip("10.255.0.1"), TimeSpan.FromSeconds(2), $"round {round}: {host} via the new /32");
        }
    }

    private static int Count(List<IReadOnlySet<IpAddr>> changes)
    {
        lock (changes)
            return changes.Count;
    }

    private static Task WaitAsync(Func<bool> condition) => WaitAsync(condition, Timeout, "the condition");

    private static async Task WaitAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(1);
        }
    }
}
