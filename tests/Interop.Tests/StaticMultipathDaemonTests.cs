namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// <c>route P multipath via A weight N via B;</c> end to end: our daemon and BIRD 1.6, each in a
/// namespace of its own with the same links and config, export it through <c>protocol kernel</c>
/// as one multipath route with the same hops and weights, drop a hop whose link goes down, and
/// answer <c>show route</c> / <c>show route all</c> with the same lines.
/// </summary>
public class StaticMultipathDaemonTests
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(60);

    private const string Config = """
        router id 10.0.0.1;
        protocol kernel {
          scan time 2;
          import none;
          export all;
        }
        protocol device { scan time 2; }
        protocol static {
          route 10.80.0.0/24 multipath via 10.0.1.2 weight 3 via 10.0.2.2;
          route 10.81.0.0/24 blackhole;
        }
        """;

    private static async Task<LabHost> NodeAsync(TestLab lab, string name)
    {
        var node = await lab.AddHostAsync(name);
        var peer = await lab.AddHostAsync(name + "p");
        await lab.ConnectAsync(node, "10.0.1.1/24", peer, "10.0.1.2/24", "eth0", "eth0");
        await lab.ConnectAsync(node, "10.0.2.1/24", peer, "10.0.2.2/24", "eth1", "eth1");
        return node;
    }

    private static async Task<KernelRoute?> RouteAsync(LabHost host) =>
        (await host.RoutesAsync()).SingleOrDefault(r => r.Dst == "10.80.0.0/24");

    private static async Task<string> ShowAsync(string socket, string command, string labDir) =>
        ControlSocketMask.Apply(await ControlSocketClient.RawAsync(socket, command), command, labDir);

    private static readonly KernelRouteHop[] BothHops = [new("10.0.1.2", "eth0", 3), new("10.0.2.2", "eth1", 1)];

    [Fact]
    public async Task Multipath_static_route_reaches_the_kernel_and_show_route_as_bird16s()
    {
        await using var lab = await TestLab.CreateAsync("mp-daemon");
        var oursHost = await NodeAsync(lab, "a");
        var birdHost = await NodeAsync(lab, "b");
        var ours = await OurDaemon.StartAsync(oursHost, Config);
        var bird = await BirdPeer.StartBird16Async(birdHost, Config);

        // One kernel route with both hops and their weights, from each daemon alike.
        foreach (var host in new[] { oursHost, birdHost })
        {
            await Wait.UntilAsync(async () => await RouteAsync(host) is { Hops.Count: 2 }, Converge, $"multipath route on {host.Name}", () => host.RoutesTextAsync());
            var route = (await RouteAsync(host))!;
            Assert.Equal("bird", route.Protocol);
            Assert.Equal(BothHops, route.Hops.OrderBy(h => h.Gateway, StringComparer.Ordinal));
        }

        await AssertSameShowAsync(ours, bird, lab.Dir, "10.80.0.0/24       multipath [static1 <time>] * (200)", "\tvia 10.0.1.2 on eth0 weight 3");

        // eth1 goes down: the route goes on via eth0 alone, a plain route (BIRD 1.6's fallback).
        foreach (var host in new[] { oursHost, birdHost })
            (await host.IpAsync("link", "set", "eth1", "down")).ThrowIfFailed($"{host.Name} eth1 down");
        foreach (var host in new[] { oursHost, birdHost })
        {
            await Wait.UntilAsync(async () => await RouteAsync(host) is { Hops.Count: 0, Gateway: "10.0.1.2", Dev: "eth0" }, Converge,
                $"single-path route on {host.Name}", () => host.RoutesTextAsync());
        }
        await Wait.UntilAsync(async () => (await ShowAsync(ours.Socket, "show route", lab.Dir)).Contains("via 10.0.1.2 on eth0 [static1", StringComparison.Ordinal)
            && (await ShowAsync(bird.Socket, "show route", lab.Dir)).Contains("via 10.0.1.2 on eth0 [static1", StringComparison.Ordinal),
            Converge, "show route of the single-path route");
        await AssertSameShowAsync(ours, bird, lab.Dir, "10.80.0.0/24       via 10.0.1.2 on eth0 [static1 <time>] * (200)", null);

        // Back up: both hops again.
        (await oursHost.IpAsync("link", "set", "eth1", "up")).ThrowIfFailed("eth1 up");
        await Wait.UntilAsync(async () => await RouteAsync(oursHost) is { Hops.Count: 2 }, Converge, "multipath route back", () => oursHost.RoutesTextAsync());
        Assert.Equal(BothHops, (await RouteAsync(oursHost))!.Hops.OrderBy(h => h.Gateway, StringComparer.Ordinal));

        // A reload that changes a weight (SIGHUP, as confd sends) rewrites the kernel route in place.
        await ours.ReloadAsync(Config.Replace("via 10.0.2.2;", "via 10.0.2.2 weight 5;", StringComparison.Ordinal));
        await Wait.UntilAsync(async () => await RouteAsync(oursHost) is { } r && r.Hops.Any(h => h is { Gateway: "10.0.2.2", Weight: 5 }), Converge,
            "new weight in the kernel", () => oursHost.RoutesTextAsync());
        Assert.Contains("\tvia 10.0.2.2 on eth1 weight 5", await ShowAsync(ours.Socket, "show route", lab.Dir), StringComparison.Ordinal);
    }

    /// <summary><c>show route</c> and <c>show route all</c> the same from both daemons, and holding the lines named.</summary>
    private static async Task AssertSameShowAsync(OurDaemon ours, BirdPeer bird, string labDir, string routeLine, string? hopLine)
    {
        foreach (var command in new[] { "show route", "show route all" })
        {
            var expected = await ShowAsync(bird.Socket, command, labDir);
            var actual = await ShowAsync(ours.Socket, command, labDir);
            Assert.Contains(routeLine, expected, StringComparison.Ordinal);
            if (hopLine is not null)
                Assert.Contains(hopLine, expected, StringComparison.Ordinal);
            Assert.Equal(expected, actual);
        }
    }
}
