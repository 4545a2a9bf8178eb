namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// The route reflector deployment's own config (conf/k8s/route-reflector/configmap.yaml), run as the pod
/// runs it: two BIRD 2 clients get each other's blocks, the clients' next hops resolve through the pod's
/// learned default route (iBGP's gateway is recursive), and the pod's kernel table is left as it was.
/// </summary>
public class RouteReflectorDeploymentTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>The <c>bird.cfg.in</c> block of the ConfigMap: the lines under its key, indentation taken off.</summary>
    private static string Template()
    {
        var lines = File.ReadAllLines(Path.Combine(LabTools.RepoRoot, "conf", "k8s", "route-reflector", "configmap.yaml"));
        var start = Array.FindIndex(lines, l => l.Trim() == "bird.cfg.in: |") + 1;
        Assert.True(start > 0, "the ConfigMap has a bird.cfg.in block");
        return string.Join('\n', lines.Skip(start).TakeWhile(l => l.Length == 0 || l.StartsWith("    ", StringComparison.Ordinal)).Select(l => l.Length == 0 ? l : l[4..]));
    }

    private static string Client(string self, string block) => $$"""
        router id {{self}};
        protocol device { scan time 2; }
        protocol static { ipv4; route {{block}} blackhole; }
        protocol bgp reflector {
          local {{self}} as 64512;
          neighbor 10.0.0.10 as 64512;
          connect retry time 1;
          ipv4 { import all; export all; };
        }
        """;

    [Fact]
    public async Task The_deployments_config_reflects_resolves_next_hops_through_the_pods_routes_and_writes_none()
    {
        await using var lab = await TestLab.CreateAsync("rr-deploy");
        var rr = await lab.AddHostAsync("rr");
        var c1 = await lab.AddHostAsync("c1");
        var c2 = await lab.AddHostAsync("c2");
        await lab.ConnectToSwitchAsync("sw", (rr, "10.0.0.10/24"), (c1, "10.0.0.21/24"), (c2, "10.0.0.22/24"));
        // A pod's default route, as its network plugin sets it.
        (await rr.IpAsync("route", "add", "default", "via", "10.0.0.1")).ThrowIfFailed("the pod's default route");
        var kernelBefore = (await rr.RoutesAsync()).Select(r => r.ToString()).Order().ToList();

        var config = rr.WriteFile("bird.cfg", Template().Replace("@POD_IP@", "10.0.0.10", StringComparison.Ordinal));
        var socket = Path.Combine(rr.Dir, "bird.ctl");
        var ours = rr.Start("calico-bgpd", LabTools.Daemon, ["-d", "-c", config, "-s", socket]);
        var one = await BirdPeer.StartBird2Async(c1, Client("10.0.0.21", "10.65.21.0/26"));
        var two = await BirdPeer.StartBird2Async(c2, Client("10.0.0.22", "10.65.22.0/26"));

        Task<string> ShowRouteAsync() => ControlSocketClient.RawOrEmptyAsync(socket, "show route");
        await Wait.UntilAsync(async () =>
                (await one.CommandAsync("show route")).Contains("10.65.22.0/26", StringComparison.Ordinal)
                && (await two.CommandAsync("show route")).Contains("10.65.21.0/26", StringComparison.Ordinal),
            Timeout, "each client to hold the other's block", async () => $"ours:\n{await ShowRouteAsync()}\n{lab.Diagnostics()}");

        // Resolved through the learned default route, as BIRD 1.6 resolves them with this config: via its
        // gateway, cost unknown ("/?"), not unreachable.
        var routes = await ShowRouteAsync();
        Assert.Matches(@"10\.65\.21\.0/26\s+via 10\.0\.0\.1 on eth0 \[Node_10_0_0_21 [0-9:]+ from 10\.0\.0\.21\] \* \(100/\?\) \[i\]", routes);
        Assert.Matches(@"10\.65\.22\.0/26\s+via 10\.0\.0\.1 on eth0 \[Node_10_0_0_22 [0-9:]+ from 10\.0\.0\.22\] \* \(100/\?\) \[i\]", routes);
        Assert.DoesNotContain("unreachable", routes, StringComparison.Ordinal);
        // The kernel protocol learned and wrote nothing.
        Assert.Equal(kernelBefore, (await rr.RoutesAsync()).Select(r => r.ToString()).Order().ToList());
        Assert.False(ours.HasExited);
    }
}
