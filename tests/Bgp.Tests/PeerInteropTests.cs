using System.Diagnostics;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Session;
using Calico.Bgp.Speaker.Wire;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>
/// Our speaker (in namespace a, 10.0.0.1, AS 64512) against BIRD 1.6, GoBGP, FRR and BIRD 2
/// features (hold timer, TCP MD5, ADD-PATH) in namespace b (10.0.0.2, AS 64513).
/// </summary>
public class PeerInteropTests
{
    private static readonly Prefix Theirs = Prefix.Parse("10.50.1.0/24");
    private static readonly Prefix Ours = Prefix.Parse("10.60.1.0/24");
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    private sealed class Ours_ : IAsyncDisposable
    {
        public required RoutingTable Table { get; init; }
        public required TestStatic Static { get; init; }
        public required BgpListener Listener { get; init; }
        public required BgpProtocol Bgp { get; init; }

        public async ValueTask DisposeAsync()
        {
            await Bgp.StopAsync(CancellationToken.None);
            await Listener.DisposeAsync();
        }
    }

    private static async Task<(TestLab Lab, LabHost A, LabHost B)> LabAsync(string name)
    {
        var lab = await TestLab.CreateAsync(name);
        var a = await lab.AddHostAsync("a");
        var b = await lab.AddHostAsync("b");
        await lab.ConnectAsync(a, "10.0.0.1/24", b, "10.0.0.2/24", "eth0", "eth0");
        return (lab, a, b);
    }

    private static async Task<Ours_> StartOursAsync(LabHost a, Func<BgpProtocolOptions, BgpProtocolOptions>? tweak = null, Export.UpdateGroupRegistry? registry = null)
    {
        var table = new RoutingTable();
        var stat = new TestStatic(table);
        stat.AddBlackhole(Ours.ToString());
        var factory = NetnsSockets.Factory(a.Netns);
        var listener = new BgpListener(null, 179, NullLoggerFactory.Instance, factory);
        var options = new BgpProtocolOptions
        {
            Name = "peer_b",
            RouterId = 0x0A000001,
            LocalAs = 64512,
            PeerAs = 64513,
            NeighborAddress = IpAddr.Parse("10.0.0.2"),
            ExportFilter = RouteFilter.AcceptAll,
            ConnectDelayTime = 0,
            ConnectRetryTime = 2,
            ErrorWaitMin = 1,
            ErrorWaitMax = 2,
            SocketFactory = factory,
        };
        options = tweak?.Invoke(options) ?? options;
        var bgp = new BgpProtocol(options, table, TimeProvider.System, NullLoggerFactory.Instance, listener, registry);
        listener.Start();
        await bgp.StartAsync(CancellationToken.None);
        return new Ours_ { Table = table, Static = stat, Listener = listener, Bgp = bgp };
    }

    private static Task LearnedAsync(Ours_ us, Prefix p, Func<Task<string>>? describe = null) =>
        Wait.UntilAsync(() => Task.FromResult(us.Table.Find(p)?.Best is { Protocol: BgpProtocol }), Long, $"{p} learned from the peer",
            describe ?? (() => Task.FromResult(us.Bgp.Info)));

    private static Task GoneAsync(Ours_ us, Prefix p) =>
        Wait.UntilAsync(() => us.Table.Find(p) is null, Long, $"{p} withdrawn");

    [Fact]
    public async Task Bird16_exchanges_routes_and_withdraws()
    {
        var (lab, a, b) = await LabAsync("bgp-b16");
        await using var _ = lab;
        var bird = await BirdPeer.StartBird16Async(b, Bird16Config(true));
        await using var us = await StartOursAsync(a);
        await LearnedAsync(us, Theirs, async () => $"{us.Bgp.Info}\n{await bird.CommandAsync("show protocols all peer1")}");
        await Wait.UntilAsync(async () => (await bird.CommandAsync("show route")).Contains(Ours.ToString(), StringComparison.Ordinal), Long, "BIRD 1.6 learns ours");
        await bird.ReconfigureAsync(Bird16Config(false));
        await GoneAsync(us, Theirs);
    }

    private static string Bird16Config(bool route) => $$"""
        router id 10.0.0.2;
        protocol device { scan time 2; }
        protocol static { {{(route ? "route 10.50.1.0/24 blackhole;" : "")}} }
        protocol bgp peer1 {
          local 10.0.0.2 as 64513;
          neighbor 10.0.0.1 as 64512;
          connect retry time 1;
          error wait time 1, 2;
          import all;
          export all;
          direct;
        }
        """;

    [Fact]
    public async Task Gobgp_exchanges_routes_and_withdraws()
    {
        var (lab, a, b) = await LabAsync("bgp-gobgp");
        await using var _ = lab;
        var gobgp = await GobgpPeer.StartAsync(b, $"""
            [global.config]
              as = 64513
              router-id = "10.0.0.2"
            [[neighbors]]
              [neighbors.config]
                neighbor-address = "10.0.0.1"
                peer-as = 64512
              [neighbors.timers.config]
                connect-retry = 1
            """);
        await using var us = await StartOursAsync(a);
        (await gobgp.CliAsync("global", "rib", "add", Theirs.ToString(), "-a", "ipv4")).ThrowIfFailed("gobgp add");
        await LearnedAsync(us, Theirs, async () => $"{us.Bgp.Info}\n{(await gobgp.CliAsync("neighbor")).StdOut}");
        await Wait.UntilAsync(async () => (await gobgp.CliAsync("global", "rib", "-a", "ipv4")).StdOut.Contains(Ours.ToString(), StringComparison.Ordinal), Long, "GoBGP learns ours");
        (await gobgp.CliAsync("global", "rib", "del", Theirs.ToString(), "-a", "ipv4")).ThrowIfFailed("gobgp del");
        await GoneAsync(us, Theirs);
    }

    [Fact]
    public async Task Frr_exchanges_routes_and_withdraws()
    {
        var (lab, a, b) = await LabAsync("bgp-frr");
        await using var _ = lab;
        var frr = await FrrPeer.StartAsync(b, """
            hostname frr
            router bgp 64513
             bgp router-id 10.0.0.2
             no bgp ebgp-requires-policy
             no bgp network import-check
             neighbor 10.0.0.1 remote-as 64512
             neighbor 10.0.0.1 timers connect 1
             address-family ipv4 unicast
              network 10.50.1.0/24
             exit-address-family
            """);
        await using var us = await StartOursAsync(a);
        await LearnedAsync(us, Theirs, async () => $"{us.Bgp.Info}\n{(await frr.VtyshAsync("show bgp summary")).StdOut}");
        await Wait.UntilAsync(async () => (await frr.VtyshAsync("show bgp ipv4 unicast")).StdOut.Contains(Ours.ToString(), StringComparison.Ordinal), Long, "FRR learns ours");
        (await b.RunAsync("vtysh", "--vty_socket", frr.VtyDir, "-d", "bgpd", "-c", "configure terminal", "-c", "router bgp 64513",
            "-c", "address-family ipv4 unicast", "-c", "no network 10.50.1.0/24")).ThrowIfFailed("frr no network");
        await GoneAsync(us, Theirs);
    }

    private static string Bird2Config(string extra = "", string channel = "") => $$"""
        router id 10.0.0.2;
        protocol device { scan time 2; }
        protocol static { ipv4; route 10.50.1.0/24 blackhole; }
        protocol bgp peer1 {
          local 10.0.0.2 as 64513;
          neighbor 10.0.0.1 as 64512;
          connect retry time 1;
          error wait time 1, 2;
          direct;
          {{extra}}
          ipv4 { import all; export all; {{channel}} };
        }
        """;

    [Fact]
    public async Task Hold_timer_expires_when_the_peer_link_goes_down()
    {
        var (lab, a, b) = await LabAsync("bgp-hold");
        await using var _ = lab;
        var bird = await BirdPeer.StartBird2Async(b, Bird2Config("hold time 6;"));
        await using var us = await StartOursAsync(a, o => o with { HoldTime = 6 });
        await LearnedAsync(us, Theirs);
        Assert.Equal(6, us.Bgp.Snapshot().HoldTime);
        (await b.IpAsync("link", "set", "eth0", "down")).ThrowIfFailed("link down");
        var sw = Stopwatch.StartNew();
        await Wait.UntilAsync(() => us.Bgp.BgpState != BgpState.Established, TimeSpan.FromSeconds(15), "session down by hold timer");
        Assert.InRange(sw.Elapsed.TotalSeconds, 3, 9);
        Assert.Contains("Hold timer expired", us.Bgp.Snapshot().LastError, StringComparison.Ordinal);
        // The routes go once the connection is torn down, right after the state changes.
        await Wait.UntilAsync(() => us.Table.Find(Theirs) is null, TimeSpan.FromSeconds(10), "the peer's routes withdrawn");
    }

    [Theory]
    [InlineData("x", true)]
    [InlineData("wrong", false)]
    public async Task Tcp_md5_with_bird2(string ourPassword, bool establishes)
    {
        var (lab, a, b) = await LabAsync("bgp-md5-" + establishes);
        await using var _ = lab;
        var bird = await BirdPeer.StartBird2Async(b, Bird2Config("password \"x\";"));
        await using var us = await StartOursAsync(a, o => o with { Password = ourPassword });
        if (establishes)
        {
            await LearnedAsync(us, Theirs, async () => $"{us.Bgp.Info}\n{await bird.CommandAsync("show protocols all peer1")}");
            return;
        }
        await Task.Delay(TimeSpan.FromSeconds(8));
        Assert.NotEqual(BgpState.Established, us.Bgp.BgpState);
        Assert.False(await bird.IsEstablishedAsync("peer1"));
    }

    [Fact]
    public async Task Gtsm_with_bird2()
    {
        var (lab, a, b) = await LabAsync("bgp-gtsm");
        await using var _ = lab;
        var bird = await BirdPeer.StartBird2Async(b, Bird2Config("ttl security on;"));
        await using var us = await StartOursAsync(a, o => o with { TtlSecurity = true });
        await LearnedAsync(us, Theirs, async () => $"{us.Bgp.Info}\n{await bird.CommandAsync("show protocols all peer1")}");
    }

    /// <summary>
    /// BIRD's own connection to our listener with GTSM: we are passive, so only BIRD connects. Its
    /// connecting socket drops answers below TTL 255 (IP_MINTTL), so the listener's SYN-ACK must
    /// carry 255 as BIRD's does; at the default 64 the handshake never completed.
    /// </summary>
    [Fact]
    public async Task Gtsm_with_bird2_connecting_to_us()
    {
        var (lab, a, b) = await LabAsync("bgp-gtsm-in");
        await using var _ = lab;
        var bird = await BirdPeer.StartBird2Async(b, Bird2Config("ttl security on;"));
        await using var us = await StartOursAsync(a, o => o with { TtlSecurity = true, Passive = true });
        await LearnedAsync(us, Theirs, async () => $"{us.Bgp.Info}\n{await bird.CommandAsync("show protocols all peer1")}");
        Assert.True(await bird.IsEstablishedAsync("peer1"));
    }

    /// <summary>
    /// Two of ours with GTSM: each connecting socket drops what arrives below TTL 255 from before its
    /// SYN, so the SYN-ACK of the other's listener must carry 255 (it carried 64: neither side's
    /// connection could complete and the session never came up).
    /// </summary>
    [Fact]
    public async Task Gtsm_between_two_of_ours()
    {
        var (lab, a, b) = await LabAsync("bgp-gtsm-us");
        await using var _ = lab;
        await using var us = await StartOursAsync(a, o => o with { TtlSecurity = true });
        await using var them = await StartOursAsync(b, o => o with
        {
            Name = "peer_a",
            RouterId = 0x0A000002,
            LocalAs = 64513,
            PeerAs = 64512,
            NeighborAddress = IpAddr.Parse("10.0.0.1"),
            TtlSecurity = true,
        });
        await Wait.UntilAsync(() => Task.FromResult(us.Bgp.BgpState == BgpState.Established && them.Bgp.BgpState == BgpState.Established), Long,
            "both sessions established", () => Task.FromResult($"{us.Bgp.Info}\n{them.Bgp.Info}"));
    }

    [Fact]
    public async Task Add_path_tx_gives_bird2_every_path()
    {
        var (lab, a, b) = await LabAsync("bgp-addpath");
        await using var _ = lab;
        var bird = await BirdPeer.StartBird2Async(b, Bird2Config(channel: "add paths on;"));
        await using var us = await StartOursAsync(a, o => o with { AddPaths = AddPathMode.Both });
        var second = new TestStatic(us.Table, "static2");
        second.AddBlackhole(Ours.ToString());
        await Wait.UntilAsync(async () => CountPaths(await bird.CommandAsync("show route " + Ours)) == 2, Long, "BIRD 2 shows two paths",
            async () => $"{us.Bgp.Info}\n{await bird.CommandAsync("show route all")}\n{await bird.CommandAsync("show protocols all peer1")}");
        us.Table.Withdraw(Ours, us.Static);
        await Wait.UntilAsync(async () => CountPaths(await bird.CommandAsync("show route " + Ours)) == 1, Long, "BIRD 2 shows one path");
    }

    private static int CountPaths(string showRoute) =>
        showRoute.Split('\n').Count(l => l.Contains("[peer1", StringComparison.Ordinal));

    [Fact]
    public async Task Route_refresh_from_bird2_makes_us_resend()
    {
        var (lab, a, b) = await LabAsync("bgp-refresh");
        await using var _ = lab;
        var bird = await BirdPeer.StartBird2Async(b, Bird2Config());
        var registry = new Export.UpdateGroupRegistry();
        await using var us = await StartOursAsync(a, registry: registry);
        await LearnedAsync(us, Theirs);
        await Wait.UntilAsync(async () => (await bird.CommandAsync("show route")).Contains(Ours.ToString(), StringComparison.Ordinal), Long, "BIRD 2 learns ours");
        var before = registry.ResyncMessages;
        await bird.CommandAsync("reload in peer1");
        await Wait.UntilAsync(() => registry.ResyncMessages > before, Long, "our routes sent again after ROUTE-REFRESH");
        Assert.Contains(Ours.ToString(), await bird.CommandAsync("show route"), StringComparison.Ordinal);
    }
}
