using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>
/// Graceful restart (RFC 4724 §4.2, we are the receiving speaker) against a real BIRD 2 killed with
/// SIGKILL in a network namespace. With <c>graceful restart on</c> BIRD lists IPv4 in its capability:
/// its routes stay, stale, until the restarted BIRD (run with <c>-R</c>, so it sets the
/// forwarding-state bit) sends End-of-RIB, and then only what it did not announce again goes. Without
/// it BIRD is only "restart-aware" (no family): its routes go at once.
/// </summary>
public class BirdGracefulRestartInteropTests
{
    private static string BirdConfig(bool gr, params string[] routes) => $$"""
        router id 10.0.0.2;
        protocol device {}
        protocol static { ipv4; {{string.Concat(routes.Select(r => $"route {r} blackhole; "))}} }
        protocol bgp peerA {
          local 10.0.0.2 as 64512;
          neighbor 10.0.0.1 as 64512;
          connect delay time 1;
          error wait time 1, 2;
          {{(gr ? "graceful restart on;" : "")}}
          ipv4 { import all; export all; };
        }
        """;

    private static Route? Of(RoutingTable table, string prefix) =>
        table.Find(Prefix.Parse(prefix))?.Routes.FirstOrDefault(r => r.Protocol is BgpProtocol);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Killed_bird2_routes_are_kept_stale_only_when_it_listed_the_family(bool birdGracefulRestart)
    {
        await using var lab = await TestLab.CreateAsync("bgp-gr-bird2-" + (birdGracefulRestart ? "on" : "off"));
        var a = await lab.AddHostAsync("a");
        var b = await lab.AddHostAsync("b");
        await lab.ConnectAsync(a, "10.0.0.1/24", b, "10.0.0.2/24");
        var bird = await BirdPeer.StartBird2Async(b, BirdConfig(birdGracefulRestart, "10.50.1.0/24", "10.50.2.0/24"));

        var table = new RoutingTable();
        var factory = NetnsSockets.Factory(a.Netns);
        await using var listener = new BgpListener(null, 179, NullLoggerFactory.Instance, factory);
        listener.Start();
        var bgp = new BgpProtocol(new BgpProtocolOptions
        {
            Name = "Mesh_10_0_0_2",
            RouterId = 0x0A000001,
            LocalAs = 64512,
            PeerAs = 64512,
            NeighborAddress = IpAddr.Parse("10.0.0.2"),
            ExportFilter = RouteFilter.AcceptAll,
            GracefulRestart = true,
            GracefulRestartTime = 120,
            ConnectDelayTime = 0,
            ConnectRetryTime = 2,
            ErrorWaitMin = 1,
            ErrorWaitMax = 2,
            SocketFactory = factory,
        }, table, TimeProvider.System, NullLoggerFactory.Instance, listener);
        await bgp.StartAsync(CancellationToken.None);
        try
        {
            await Wait.UntilAsync(() => Task.FromResult(Of(table, "10.50.2.0/24") is not null), TimeSpan.FromSeconds(30), "routes from BIRD",
                async () => $"{bgp.Info}\n{await bird.CommandAsync("show protocols all peerA")}");
            Assert.Contains(birdGracefulRestart ? "restart-able" : "restart-aware", bgp.Snapshot().NeighborCapabilities, StringComparison.Ordinal);

            await bird.Process!.KillAsync();
            await Wait.UntilAsync(() => bgp.State != ProtocolState.Up, TimeSpan.FromSeconds(10), "session down after SIGKILL");
            // As BIRD, the protocol leaves up first, then its routes are flushed or marked stale.
            if (!birdGracefulRestart)
            {
                await Wait.UntilAsync(() => Of(table, "10.50.1.0/24") is null && Of(table, "10.50.2.0/24") is null, TimeSpan.FromSeconds(10), "the routes flushed");
                Assert.False(bgp.Snapshot().NeighborGracefulRestartActive);
                return;
            }
            await Wait.UntilAsync(() => Of(table, "10.50.1.0/24") is { Stale: true } && Of(table, "10.50.2.0/24") is { Stale: true }, TimeSpan.FromSeconds(10), "the routes stale");
            Assert.True(bgp.Snapshot().NeighborGracefulRestartActive);

            // BIRD comes back in graceful-restart recovery (-R: forwarding state kept) with one route fewer.
            await File.WriteAllTextAsync(bird.ConfigPath, BirdConfig(true, "10.50.1.0/24"));
            File.Delete(bird.Socket);
            b.Start("bird2-restarted", bird.Binary, ["-f", "-R", "-c", bird.ConfigPath, "-s", bird.Socket]);
            await Wait.UntilAsync(() => Task.FromResult(Of(table, "10.50.2.0/24") is null), TimeSpan.FromSeconds(60), "10.50.2.0/24 removed at BIRD's End-of-RIB",
                async () => $"{bgp.Info}\n{(File.Exists(bird.Socket) ? await bird.CommandAsync("show protocols all peerA") : "no socket")}");
            Assert.True(bgp.ReceivedEndOfRib);
            Assert.False(Of(table, "10.50.1.0/24")!.Stale);
            Assert.False(bgp.Snapshot().NeighborGracefulRestartActive);
            Assert.Equal(1, bgp.Stats.Imported);
        }
        finally
        {
            await bgp.StopAsync(CancellationToken.None);
        }
    }
}
