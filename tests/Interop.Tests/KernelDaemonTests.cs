using System.Text;

namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// The kernel protocol as the daemon runs it: a restart with <c>-R</c> that leaves the kernel table
/// still, drift repaired within the scan time, alien routes learned and exported, and a large table
/// installed and withdrawn.
/// </summary>
public class KernelDaemonTests
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(60);

    private static string OurConfig(int scanTime = 2) => $$"""
        router id 10.0.0.1;
        protocol kernel {
          learn;
          persist;
          graceful restart;
          scan time {{scanTime}};
          import all;
          export all;
        }
        protocol device { scan time 2; }
        protocol direct { interface -"cali*", -"kube-ipvs*", "*"; }
        protocol static { route 10.60.1.0/24 blackhole; }
        protocol bgp Node_10_0_0_2 {
          local as 64512;
          neighbor 10.0.0.2 as 64512;
          source address 10.0.0.1;
          graceful restart;
          connect delay time 1;
          connect retry time 2;
          error wait time 1,5;
          import all;
          export all;
        }
        """;

    /// <summary>BIRD 2 with graceful restart, exporting blackholes for the given prefixes.</summary>
    private static string Bird(params string[] prefixes)
    {
        var routes = new StringBuilder();
        foreach (var p in prefixes)
            routes.Append("  route ").Append(p).Append(" blackhole;\n");
        return $$"""
            router id 10.0.0.2;
            protocol device { scan time 2; }
            protocol static {
              ipv4;
            {{routes}}}
            protocol bgp peer1 {
              local 10.0.0.2 as 64512;
              neighbor 10.0.0.1 as 64512;
              direct;
              connect retry time 1;
              graceful restart on;
              ipv4 { import all; export all; };
            }
            """;
    }

    private static async Task<(TestLab Lab, LabHost A, BirdPeer Bird, OurDaemon Ours)> StartAsync(string name, string birdConfig, string? ourConfig = null, params string[] ourArgs)
    {
        var lab = await TestLab.CreateAsync(name);
        var a = await lab.AddHostAsync("a");
        var b = await lab.AddHostAsync("b");
        await lab.ConnectAsync(a, "10.0.0.1/24", b, "10.0.0.2/24");
        var bird = await BirdPeer.StartBird2Async(b, birdConfig);
        var ours = await OurDaemon.StartAsync(a, ourConfig ?? OurConfig(), ourArgs);
        return (lab, a, bird, ours);
    }

    private static async Task<bool> HasAsync(LabHost host, string dst, string? gateway = null) =>
        (await host.RoutesAsync()).Any(r => r.Dst == dst && r.Protocol == "bird" && (gateway is null || r.Gateway == gateway));

    [Fact]
    public async Task A_daemon_killed_and_restarted_with_R_leaves_unchanged_kernel_routes_alone()
    {
        var (lab, a, bird, ours) = await StartAsync("kernel-restart", Bird("10.50.1.0/24", "10.50.2.0/24"));
        await using var _ = lab;
        Task<string> Describe() => DescribeAsync(lab, a, ours);
        await Wait.UntilAsync(async () => await HasAsync(a, "10.50.1.0/24", "10.0.0.2") && await HasAsync(a, "10.50.2.0/24", "10.0.0.2") && await HasAsync(a, "10.60.1.0/24"),
            Converge, "the peer's routes and our block in the kernel", Describe);

        // Every kernel route event in A from now on is recorded.
        var monitor = a.Start("monitor", "ip", ["monitor", "route"]);
        await Task.Delay(500);
        await ours.KillAsync();
        // While ours is down, the peer stops announcing one of its routes.
        await bird.ReconfigureAsync(Bird("10.50.1.0/24"));
        Assert.True(await HasAsync(a, "10.50.1.0/24", "10.0.0.2"), "persist keeps our routes after a crash");
        await ours.StartAsync("-R");

        await Wait.UntilAsync(async () => await ours.IsEstablishedAsync("Node_10_0_0_2") && !await HasAsync(a, "10.50.2.0/24"),
            Converge, "the session back and the vanished route pruned after recovery", Describe);
        var status = await ours.CommandAsync("show status");
        Assert.DoesNotContain("Graceful restart recovery in progress", status, StringComparison.Ordinal);
        await Task.Delay(3000);
        await monitor.StopAsync();

        var events = monitor.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.DoesNotContain(events, e => e.Contains("10.50.1.0/24", StringComparison.Ordinal));
        Assert.DoesNotContain(events, e => e.Contains("10.60.1.0/24", StringComparison.Ordinal));
        Assert.Contains(events, e => e.StartsWith("Deleted", StringComparison.Ordinal) && e.Contains("10.50.2.0/24", StringComparison.Ordinal));
        Assert.True(await HasAsync(a, "10.50.1.0/24", "10.0.0.2"));
        Assert.True(await HasAsync(a, "10.60.1.0/24"));
    }

    [Fact]
    public async Task Drift_is_repaired_within_the_scan_time_and_alien_routes_are_learned_and_exported()
    {
        var (lab, a, bird, ours) = await StartAsync("kernel-drift", Bird("10.50.1.0/24", "10.50.2.0/24"));
        await using var _ = lab;
        Task<string> Describe() => DescribeAsync(lab, a, ours);
        await Wait.UntilAsync(async () => await HasAsync(a, "10.50.1.0/24", "10.0.0.2") && await HasAsync(a, "10.50.2.0/24", "10.0.0.2"),
            Converge, "the peer's routes in the kernel", Describe);

        // Someone deletes one of our routes, changes another, and adds a stray one claiming to be ours.
        (await a.IpAsync("route", "del", "10.50.1.0/24")).ThrowIfFailed("route del");
        (await a.IpAsync("route", "replace", "10.50.2.0/24", "dev", "eth0", "proto", "bird")).ThrowIfFailed("route change");
        (await a.IpAsync("route", "add", "10.99.99.0/24", "dev", "eth0", "proto", "bird")).ThrowIfFailed("stray route");
        await Wait.UntilAsync(async () =>
            {
                var routes = await a.RoutesAsync();
                return routes.Any(r => r.Dst == "10.50.1.0/24" && r.Gateway == "10.0.0.2")
                    && routes.Any(r => r.Dst == "10.50.2.0/24" && r.Gateway == "10.0.0.2")
                    && !routes.Any(r => r.Dst == "10.99.99.0/24");
            }, TimeSpan.FromSeconds(15), "drift repaired", Describe);

        // A route of another protocol (as Felix adds workload routes) is learned and, export all, sent to the
        // peer (with a gateway other than the peer itself, which would reject its own address as next hop).
        (await a.IpAsync("route", "add", "10.70.1.0/24", "via", "10.0.0.9", "proto", "static", "metric", "7")).ThrowIfFailed("alien route");
        await Wait.UntilAsync(async () => (await ours.CommandAsync("show route 10.70.1.0/24")).Contains("kernel1", StringComparison.Ordinal)
                && (await bird.CommandAsync("show route 10.70.1.0/24")).Contains("10.70.1.0/24", StringComparison.Ordinal),
            TimeSpan.FromSeconds(20), "the alien route learned and exported",
            async () => await ours.CommandAsync("show route all") + await bird.CommandAsync("show route all") + await Describe());
        // Learned routes are never written back as ours.
        Assert.DoesNotContain(await a.RoutesAsync(), r => r.Dst == "10.70.1.0/24" && r.Protocol == "bird");
    }

    [Fact]
    public async Task Ten_thousand_routes_are_installed_and_withdrawn()
    {
        var prefixes = Enumerable.Range(0, 10_000).Select(i => $"10.{100 + i / 256}.{i % 256}.0/24").ToArray();
        var (lab, a, bird, ours) = await StartAsync("kernel-10k", Bird(prefixes));
        await using var _ = lab;
        Task<string> Describe() => DescribeAsync(lab, a, ours, full: false);
        await Wait.UntilAsync(async () => (await a.RoutesAsync()).Count(r => r.Protocol == "bird" && r.Gateway == "10.0.0.2") == prefixes.Length,
            TimeSpan.FromSeconds(120), "10k routes in the kernel", Describe);
        // Every route through the peer names the one nexthop object that holds 10.0.0.2 on eth0.
        var ids = (await a.RoutesAsync()).Where(r => r.Gateway == "10.0.0.2").Select(r => r.NexthopId).Distinct().ToList();
        var nexthop = Assert.Single(await a.NexthopsAsync());
        Assert.Equal([nexthop.Id], ids);
        Assert.Equal(("10.0.0.2", "eth0", "bird"), (nexthop.Gateway, nexthop.Dev, nexthop.Protocol));
        await bird.ReconfigureAsync(Bird());
        await Wait.UntilAsync(async () => (await a.RoutesAsync()).Count(r => r.Protocol == "bird" && r.Gateway == "10.0.0.2") == 0,
            TimeSpan.FromSeconds(120), "10k routes withdrawn from the kernel", Describe);
        Assert.True(await HasAsync(a, "10.60.1.0/24"), "our own block stays");
        // No route names the object any more: the next scan (2 s) removes it.
        await Wait.UntilAsync(async () => (await a.NexthopsAsync()).Count == 0, TimeSpan.FromSeconds(15), "the unused nexthop object removed", Describe);
    }

    [Fact]
    public async Task Swapping_back_to_bird_16_and_forward_again_keeps_the_routes_and_clears_the_objects()
    {
        // An operator's rollback: ours stops (persist keeps its routes, which name a nexthop object), BIRD 1.6
        // starts on the same config and takes the routes over as its own; then ours comes back.
        // OurConfig has a direct protocol, as Calico's config has: either daemon resolves the iBGP next hop through it (recursive gateway).
        var config = OurConfig();
        var (lab, a, _, ours) = await StartAsync("kernel-swap", Bird("10.50.1.0/24", "10.50.2.0/24"), config);
        await using var _ = lab;
        Task<string> Describe() => DescribeAsync(lab, a, ours);
        await Wait.UntilAsync(async () => (await a.RoutesAsync()).Count(r => r.Dst.StartsWith("10.50.", StringComparison.Ordinal) && r.NexthopId is not null) == 2,
            Converge, "the peer's routes naming a nexthop object", Describe);
        await ours.StopAsync();
        Assert.Single(await a.NexthopsAsync());

        var bird = await BirdPeer.StartBird16Async(a, config, "bird16-a");
        await Wait.UntilAsync(async () => await bird.IsEstablishedAsync("Node_10_0_0_2")
                && (await bird.CommandAsync("show route 10.50.1.0/24")).Contains("10.0.0.2", StringComparison.Ordinal),
            Converge, "BIRD 1.6 established with the peer's routes", async () => await a.RoutesTextAsync() + await bird.CommandAsync("show protocols all"));
        // BIRD 1.6 reads the routes' gateways (the kernel reports them with the object's id) and keeps or rewrites them as its own.
        await Task.Delay(3000);
        Assert.True(await HasAsync(a, "10.50.1.0/24", "10.0.0.2") && await HasAsync(a, "10.50.2.0/24", "10.0.0.2") && await HasAsync(a, "10.60.1.0/24"), await a.RoutesTextAsync());
        Assert.DoesNotContain("error", await bird.CommandAsync("show protocols all kernel1"), StringComparison.OrdinalIgnoreCase);
        await bird.Process!.StopAsync();

        // Ours again: its routes name a nexthop object again, and one no route names any more is removed at a scan.
        await ours.StartAsync();
        await Wait.UntilAsync(async () =>
            {
                var routes = (await a.RoutesAsync()).Where(r => r.Dst.StartsWith("10.50.", StringComparison.Ordinal)).ToList();
                var objects = await a.NexthopsAsync();
                return routes.Count == 2 && routes.All(r => r.Gateway == "10.0.0.2") && objects.All(o => routes.Any(r => r.NexthopId == o.Id));
            }, Converge, "our routes back, and no object left that no route names", Describe);
    }

    [Fact]
    public async Task With_inline_nexthops_routes_carry_their_gateways_as_bird_writes_them()
    {
        var (lab, a, _, ours) = await StartAsync("kernel-inline", Bird("10.50.1.0/24"), null, "--inline-nexthops");
        await using var _ = lab;
        await Wait.UntilAsync(() => HasAsync(a, "10.50.1.0/24", "10.0.0.2"), Converge, "the peer's route in the kernel", () => DescribeAsync(lab, a, ours));
        Assert.Null((await a.RoutesAsync()).Single(r => r.Dst == "10.50.1.0/24").NexthopId);
        Assert.Empty(await a.NexthopsAsync());
    }

    private static async Task<string> DescribeAsync(TestLab lab, LabHost a, OurDaemon ours, bool full = true)
    {
        var routes = full ? await a.RoutesTextAsync() : $"{(await a.RoutesAsync()).Count} routes";
        return routes + "\nours:\n" + await ours.CommandAsync("show protocols all") + lab.Diagnostics();
    }
}
