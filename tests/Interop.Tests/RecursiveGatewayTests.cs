using System.Text.RegularExpressions;

namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// <c>gateway recursive</c> against BIRD 1.6, run once with BIRD 1.6 as the node and once with ours
/// from the same config: the node (a) reaches its iBGP peer b (BIRD 2) only through the router r, by a
/// static /32 as Calico's <c>reachable_by</c> writes it. b sends routes with three next hops: itself
/// (behind r), an address on a's own network, another address of a's, and one nothing leads to. Each must forward as BIRD
/// resolves it, in a's kernel and in <c>show route</c>, and follow a static route that comes and goes.
/// </summary>
public class RecursiveGatewayTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static string NodeConfig(bool farRoute) => $$"""
        router id 10.98.1.2;
        protocol kernel {
          learn;
          persist;
          scan time 2;
          import all;
          export all;
        }
        protocol device {
          scan time 2;
        }
        protocol direct {
          interface -"cali*", -"kube-ipvs*", "*";
        }
        protocol static {
          route 10.98.2.2/32 via 10.98.1.1;
          {{(farRoute ? "route 10.97.0.0/16 via 10.98.1.1;" : "")}}
        }
        protocol bgp Global_10_98_2_2 {
          local as 65001;
          neighbor 10.98.2.2 as 65001;
          source address 10.98.1.2;
          multihop;
          gateway recursive;
          import all;
          export none;
          connect delay time 1;
          connect retry time 2;
          error wait time 1,5;
        }
        """;

    private const string PeerConfig = """
        router id 10.98.2.2;
        protocol device { scan time 2; }
        protocol static {
          ipv4;
          route 10.50.0.0/24 blackhole;
          route 10.51.0.0/24 blackhole;
          route 10.52.0.0/24 blackhole;
          route 10.53.0.0/24 blackhole;
        }
        protocol bgp node {
          local 10.98.2.2 as 65001;
          neighbor 10.98.1.2 as 65001;
          multihop;
          connect retry time 1;
          ipv4 {
            import none;
            export filter {
              if net = 10.51.0.0/24 then bgp_next_hop = 10.97.0.9;
              if net = 10.52.0.0/24 then bgp_next_hop = 10.98.1.7;
              if net = 10.53.0.0/24 then bgp_next_hop = 10.98.1.3;
              accept;
            };
          };
        }
        """;

    [Theory]
    [InlineData(NodeADaemon.Bird16)]
    [InlineData(NodeADaemon.Ours)]
    public async Task Next_hops_resolve_through_the_table_as_bird_resolves_them(NodeADaemon daemon)
    {
        await using var lab = await TestLab.CreateAsync($"gwrec-{daemon}");
        var a = await lab.AddHostAsync("a");
        var r = await lab.AddHostAsync("r");
        var b = await lab.AddHostAsync("b");
        await lab.ConnectAsync(a, "10.98.1.2/24", r, "10.98.1.1/24");
        await lab.ConnectAsync(r, "10.98.2.1/24", b, "10.98.2.2/24");
        (await r.RunAsync("sysctl", "-qw", "net.ipv4.ip_forward=1")).ThrowIfFailed("forwarding on r");
        await a.AddAddressAsync("eth0", "10.98.1.3/24");
        (await b.IpAsync("route", "add", "10.98.1.0/24", "via", "10.98.2.1")).ThrowIfFailed("b's way back");
        await BirdPeer.StartBird2Async(b, PeerConfig);

        var config = Path.Combine(a.Dir, "bird.cfg");
        var socket = Path.Combine(a.Dir, "bird.ctl");
        await File.WriteAllTextAsync(config, NodeConfig(farRoute: false));
        string[] args = ["-d", "-c", config, "-s", socket];
        var node = daemon == NodeADaemon.Bird16 ? a.Start("bird", LabTools.Bird16, args) : a.Start("calico-bgpd", LabTools.Daemon, args);

        Task<string> ShowRouteAsync() => ControlSocketClient.RawOrEmptyAsync(socket, "show route");
        async Task<Dictionary<string, string>> KernelAsync() =>
            (await a.RoutesAsync()).Where(k => k.Protocol == "bird").ToDictionary(k => k.Dst, k => $"{k.Type} {k.Gateway} {k.Dev}".Trim());

        // b's address is reached through r: via r, cost unknown (a static route). An address on a's own
        // network: itself, cost 0. One nothing leads to: unreachable, "/-", and so in the kernel too.
        var expectedKernel = new Dictionary<string, string>
        {
            ["10.98.2.2"] = "unicast 10.98.1.1 eth0",
            ["10.50.0.0/24"] = "unicast 10.98.1.1 eth0",
            ["10.52.0.0/24"] = "unicast 10.98.1.7 eth0",
            ["10.51.0.0/24"] = "unreachable",
            // Another address of the node's own is no gateway: unresolved too (its session's address
            // would not even be taken, RFC 4271 §6.3).
            ["10.53.0.0/24"] = "unreachable",
        };
        string[] expectedRoutes =
        [
            "10.50.0.0/24 via 10.98.1.1 on eth0 [Global_10_98_2_2 T from 10.98.2.2] * (100/?) [i]",
            "10.51.0.0/24 unreachable [Global_10_98_2_2 T from 10.98.2.2] * (100/-) [i]",
            "10.52.0.0/24 via 10.98.1.7 on eth0 [Global_10_98_2_2 T from 10.98.2.2] * (100/0) [i]",
            "10.53.0.0/24 unreachable [Global_10_98_2_2 T from 10.98.2.2] * (100/-) [i]",
        ];
        Task ConvergeAsync(string what) =>
            Wait.UntilAsync(async () => Same(expectedKernel, await KernelAsync()) && expectedRoutes.All(Lines(await ShowRouteAsync()).Contains),
                Timeout, $"{daemon}: {what}", async () =>
                    $"kernel:\n{string.Join('\n', (await KernelAsync()).Select(kv => $"{kv.Key} {kv.Value}"))}\nshow route:\n{await ShowRouteAsync()}\n{lab.Diagnostics()}");
        await ConvergeAsync("the three routes resolved as BIRD resolves them");

        // A static route to the far next hop arrives by reload: its route now goes via r.
        await File.WriteAllTextAsync(config, NodeConfig(farRoute: true));
        Assert.Contains("0003", await ControlSocketClient.RawAsync(socket, "configure"));
        expectedKernel["10.51.0.0/24"] = "unicast 10.98.1.1 eth0";
        expectedKernel["10.97.0.0/16"] = "unicast 10.98.1.1 eth0";
        expectedRoutes[1] = "10.51.0.0/24 via 10.98.1.1 on eth0 [Global_10_98_2_2 T from 10.98.2.2] * (100/?) [i]";
        await ConvergeAsync("10.51.0.0/24 resolved through the new static route");

        // And it goes again: unreachable once more, while the session never dropped.
        await File.WriteAllTextAsync(config, NodeConfig(farRoute: false));
        Assert.Contains("0003", await ControlSocketClient.RawAsync(socket, "configure"));
        expectedKernel["10.51.0.0/24"] = "unreachable";
        expectedKernel.Remove("10.97.0.0/16");
        expectedRoutes[1] = "10.51.0.0/24 unreachable [Global_10_98_2_2 T from 10.98.2.2] * (100/-) [i]";
        await ConvergeAsync("10.51.0.0/24 unreachable again");
        Assert.Contains("Established", await ControlSocketClient.RawAsync(socket, "show protocols all Global_10_98_2_2"));
        Assert.False(node.HasExited);
    }

    private static bool Same(Dictionary<string, string> expected, Dictionary<string, string> actual) =>
        expected.Count == actual.Count && expected.All(kv => actual.TryGetValue(kv.Key, out var v) && v == kv.Value);

    /// <summary>The route lines of a <c>show route</c> reply, codes and time column out, spaces collapsed.</summary>
    private static HashSet<string> Lines(string reply) =>
        [.. reply.Split('\n')
            .Where(l => l.StartsWith("1007-", StringComparison.Ordinal) || l.StartsWith(' '))
            .Select(l => l.StartsWith("1007-", StringComparison.Ordinal) ? l[5..] : l[1..])
            .Select(l => Regex.Replace(Regex.Replace(l, @"\[(\S+) [0-9:]+", "[$1 T"), @"\s+", " ").Trim())];
}
