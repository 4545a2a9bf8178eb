namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// The thin slice end to end: our daemon in namespace A peers with BIRD 2 in namespace B, learns
/// B's block into A's kernel table, advertises its own block to B, follows B's withdrawal, and
/// re-establishes after B's BIRD is killed and restarted.
/// </summary>
public class WalkingSkeletonTests
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(40);

    private const string OurConfig = """
        # Node A, as Calico's confd would shape it (the slice's subset of the dialect).
        router id 10.0.0.1;

        protocol kernel {
          learn;          # Learn all alien routes from the kernel
          persist;        # Don't remove routes on shutdown
          scan time 2;
          import all;
          export all;
        }

        protocol device {
          scan time 2;
        }
        protocol direct { interface -"cali*", -"kube-ipvs*", "*"; }

        protocol static {
          route 10.60.1.0/24 blackhole;
        }

        protocol bgp Node_10_0_0_2 {
          local as 64512;
          neighbor 10.0.0.2 as 64512;
          source address 10.0.0.1;
          # Calico's template timers: reconnect within seconds after a peer failure.
          connect delay time 2;
          connect retry time 5;
          error wait time 5,30;
          import all;
          export all;
        }
        """;

    private static bool Has(IEnumerable<KernelRoute> routes, string dst, Func<KernelRoute, bool> shape) =>
        routes.Any(r => r.Dst == dst && shape(r));

    [Fact]
    public async Task Ours_and_bird2_exchange_blocks_and_ours_programs_its_kernel()
    {
        await using var lab = await TestLab.CreateAsync("slice");
        var a = await lab.AddHostAsync("a");
        var b = await lab.AddHostAsync("b");
        await lab.ConnectAsync(a, "10.0.0.1/24", b, "10.0.0.2/24");
        var withRoute = PeerConfigs.Bird2("10.0.0.2", "10.0.0.2", 64512, "10.0.0.1", 64512, "10.50.1.0/24");
        var withoutRoute = PeerConfigs.Bird2("10.0.0.2", "10.0.0.2", 64512, "10.0.0.1", 64512);
        var bird = await BirdPeer.StartBird2Async(b, withRoute);
        var ours = await OurDaemon.StartAsync(a, OurConfig);

        async Task<string> Describe() =>
            await a.RoutesTextAsync() + "\nours:\n" + await ours.CommandAsync("show protocols") + "\nbird:\n"
            + await bird.CommandAsync("show protocols all peer1") + await bird.CommandAsync("show route") + lab.Diagnostics();

        // Converged: both sides Established, B's block in A's kernel, A's block in B's table.
        await Wait.UntilAsync(async () =>
            await ours.IsEstablishedAsync("Node_10_0_0_2") && await bird.IsEstablishedAsync("peer1")
            && Has(await a.RoutesAsync(), "10.50.1.0/24", r => r.Gateway == "10.0.0.2" && r.Protocol == "bird")
            && (await bird.CommandAsync("show route")).Contains("10.60.1.0/24", StringComparison.Ordinal),
            Converge, "the session to establish and routes to be exchanged", Describe);

        var routes = await a.RoutesAsync();
        Assert.Contains(routes, r => r.Dst == "10.50.1.0/24" && r.Gateway == "10.0.0.2" && r.Dev == "eth0" && r.Protocol == "bird");
        Assert.Contains(routes, r => r.Dst == "10.60.1.0/24" && r.Type == "blackhole" && r.Protocol == "bird");
        var birdRoute = await bird.CommandAsync("show route 10.60.1.0/24 all");
        Assert.Contains("BGP.next_hop: 10.0.0.1", birdRoute, StringComparison.Ordinal);
        Assert.Contains("Established", await ours.CommandAsync("show protocols"), StringComparison.Ordinal);

        // B withdraws its block: A's kernel route goes away, A's own blackhole stays.
        await bird.ReconfigureAsync(withoutRoute);
        await Wait.UntilAsync(async () => !(await a.RoutesAsync()).Any(r => r.Dst == "10.50.1.0/24"),
            Converge, "the withdrawn route to leave A's kernel", Describe);
        Assert.Contains(await a.RoutesAsync(), r => r.Dst == "10.60.1.0/24" && r.Type == "blackhole");

        // B's BIRD crashes and comes back (with its block again): the session re-establishes.
        await bird.Process!.KillAsync();
        await Wait.UntilAsync(async () => !await ours.IsEstablishedAsync("Node_10_0_0_2"),
            Converge, "ours to notice the peer is gone", Describe);
        await File.WriteAllTextAsync(bird.ConfigPath, withRoute);
        await bird.RestartAsync();
        await Wait.UntilAsync(async () =>
            await ours.IsEstablishedAsync("Node_10_0_0_2")
            && Has(await a.RoutesAsync(), "10.50.1.0/24", r => r.Gateway == "10.0.0.2" && r.Protocol == "bird"),
            Converge, "the session to re-establish after the peer restarted", Describe);
    }
}
