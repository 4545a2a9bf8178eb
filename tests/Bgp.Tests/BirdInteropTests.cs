using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>A tiny protocol that owns static routes in the test table.</summary>
internal sealed class TestStatic(RoutingTable table, string name = "static1") : Protocol(name, table, TimeProvider.System, 200)
{
    public override string TypeName => "Static";
    public override Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public override Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void AddBlackhole(string prefix) =>
        Table.Update(Route.Create(Prefix.Parse(prefix), Table.Attributes.Intern(new PathAttributes { Source = RouteSource.Static, Dest = RouteDest.Blackhole }), this));
}

/// <summary>Our speaker against a real BIRD 2 in network namespaces.</summary>
public class BirdInteropTests
{
    private static string BirdConfig(uint peerAs, bool withRoute) => $$"""
        router id 10.0.0.2;
        protocol device {}
        protocol static { ipv4; {{(withRoute ? "route 10.50.1.0/24 blackhole;" : "")}} }
        protocol bgp peerA {
          local 10.0.0.2 as {{peerAs}};
          neighbor 10.0.0.1 as 64512;
          connect delay time 1;
          error wait time 1, 2;
          ipv4 { import all; export all; };
        }
        """;

    [Theory]
    [InlineData(64512u)]
    [InlineData(64513u)]
    public async Task Session_with_bird2_exchanges_routes_and_recovers(uint birdAs)
    {
        await using var lab = await TestLab.CreateAsync("bgp-bird2-" + birdAs);
        var a = await lab.AddHostAsync("a");
        var b = await lab.AddHostAsync("b");
        await lab.ConnectAsync(a, "10.0.0.1/24", b, "10.0.0.2/24");
        var bird = await BirdPeer.StartBird2Async(b, BirdConfig(birdAs, true));

        var table = new RoutingTable();
        var stat = new TestStatic(table);
        stat.AddBlackhole("10.60.1.0/24");
        var factory = NetnsSockets.Factory(a.Netns);
        await using var listener = new BgpListener(null, 179, NullLoggerFactory.Instance, factory);
        listener.Start();
        var options = new BgpProtocolOptions
        {
            Name = "Mesh_10_0_0_2",
            RouterId = 0x0A000001,
            LocalAs = 64512,
            PeerAs = birdAs,
            NeighborAddress = IpAddr.Parse("10.0.0.2"),
            ExportFilter = RouteFilter.AcceptAll,
            ConnectDelayTime = 0,
            ConnectRetryTime = 2,
            ErrorWaitMin = 1,
            ErrorWaitMax = 2,
            SocketFactory = factory,
        };
        var bgp = new BgpProtocol(options, table, TimeProvider.System, NullLoggerFactory.Instance, listener);
        await bgp.StartAsync(CancellationToken.None);
        try
        {
            var learned = Prefix.Parse("10.50.1.0/24");
            await Wait.UntilAsync(() => Task.FromResult(table.Find(learned)?.Best is { Protocol: BgpProtocol }), TimeSpan.FromSeconds(30), "10.50.1.0/24 from BIRD",
                async () => $"{bgp.Info}\n{await bird.CommandAsync("show protocols all peerA")}");
            var route = table.Find(learned)!.Best!;
            Assert.Equal(IpAddr.Parse("10.0.0.2"), route.Attributes.Gateway);
            Assert.Equal(RouteSource.Bgp, route.Attributes.Source);
            Assert.StartsWith("Established", bgp.Info, StringComparison.Ordinal);
            Assert.Equal(ProtocolState.Up, bgp.State);
            var snap = bgp.Snapshot();
            Assert.Equal(0x0A000002u, snap.NeighborId);
            Assert.Contains("AS4", snap.SessionFlags, StringComparison.Ordinal);

            await Wait.UntilAsync(async () => (await bird.CommandAsync("show route")).Contains("10.60.1.0/24", StringComparison.Ordinal),
                TimeSpan.FromSeconds(20), "BIRD to learn 10.60.1.0/24", () => bird.CommandAsync("show route all"));
            var shown = await bird.CommandAsync("show route 10.60.1.0/24 all");
            if (birdAs == 64512)
                Assert.Contains("BGP.local_pref: 100", shown, StringComparison.Ordinal);
            else
                Assert.Contains("BGP.as_path: 64512", shown, StringComparison.Ordinal);

            // BIRD drops its route: withdrawn from our table.
            await bird.ReconfigureAsync(BirdConfig(birdAs, false));
            await Wait.UntilAsync(() => table.Find(learned) is null, TimeSpan.FromSeconds(20), "10.50.1.0/24 to be withdrawn");

            // BIRD crashes: session goes down, our routes from it go, and it comes back after a restart.
            await bird.ReconfigureAsync(BirdConfig(birdAs, true));
            await Wait.UntilAsync(() => table.Find(learned) is not null, TimeSpan.FromSeconds(20), "10.50.1.0/24 again");
            await bird.Process!.KillAsync();
            await Wait.UntilAsync(() => bgp.State != ProtocolState.Up, TimeSpan.FromSeconds(10), "session down after SIGKILL (peer sends RST on the next keepalive or we see EOF)");
            // As BIRD, the protocol leaves up first and then flushes its routes.
            await Wait.UntilAsync(() => table.Find(learned) is null, TimeSpan.FromSeconds(10), "the routes flushed");
            await bird.RestartAsync();
            await Wait.UntilAsync(() => Task.FromResult(table.Find(learned) is not null), TimeSpan.FromSeconds(40), "session re-established after BIRD restart",
                async () => $"{bgp.Info}\n{await bird.CommandAsync("show protocols all peerA")}");
        }
        finally
        {
            await bgp.StopAsync(CancellationToken.None);
        }
        Assert.Equal(ProtocolState.Down, bgp.State);
    }
}
