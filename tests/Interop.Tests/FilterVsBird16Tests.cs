using System.Text.RegularExpressions;

namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// The same Calico config (corpus case mesh/communities, verbatim: calico_kernel_programming,
/// calico_export_to_bgp_peers with the inline per-peer export filter, apply_communities, calico_aggr)
/// run by BIRD 1.6 and by ours, each on its own node with identical inputs: static blocks, routes
/// from a BIRD 2 feeder (next hops, local prefs, communities) and kernel routes it learns. The kernel
/// tables they program and the routes a BIRD 2 monitor receives from each must be the same.
/// </summary>
public partial class FilterVsBird16Tests
{
    private const string Case = "mesh/communities";
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(60);

    private const string Feeder = """
        router id 10.192.0.3;
        protocol device { scan time 2; }
        protocol static {
          ipv4;
          route 192.168.100.0/26 blackhole;
          route 192.168.101.0/26 blackhole;
          route 192.168.102.0/26 blackhole;
          route 192.168.103.0/26 blackhole;
          route 10.244.0.0/24 blackhole;
        }
        protocol bgp peer1 {
          local 10.192.0.3 as 64512;
          neighbor 10.192.0.2 port 177 as 64512;
          multihop;
          connect retry time 1;
          ipv4 {
            import none;
            export filter {
              if net = 192.168.101.0/26 then bgp_local_pref = 2147483147;
              if net = 192.168.102.0/26 then bgp_local_pref = 500;
              if net = 192.168.103.0/26 then { bgp_community.add((65000, 100)); bgp_large_community.add((64512, 1, 2)); }
              if net = 10.244.0.0/24 then bgp_community.add((65000, 200));
              accept;
            };
          };
        }
        """;

    private const string Monitor = """
        router id 10.192.0.4;
        protocol device { scan time 2; }
        protocol bgp peer1 {
          local 10.192.0.4 as 64512;
          neighbor 10.192.0.2 port 177 as 64512;
          multihop;
          connect retry time 1;
          ipv4 { import all; export none; };
        }
        """;

    /// <summary>Kernel routes of other owners that the node's kernel protocol learns (<c>learn</c>).</summary>
    private static readonly string[][] LearnedRoutes =
    [
        ["192.168.50.0/24", "via", "10.192.0.9", "proto", "static"],
        ["192.168.221.70/32", "via", "10.192.0.9", "proto", "static"],
        ["192.168.221.80/32", "via", "10.192.0.9", "proto", "static", "metric", "2000"],
        ["172.30.0.0/16", "via", "10.192.0.9", "proto", "static"],
    ];

    private sealed record Node(LabHost Host, BirdPeer Monitor);

    private static async Task<Node> NodeAsync(TestLab lab, string suffix, Func<LabHost, string, Task> startRouter)
    {
        var node = await lab.AddHostAsync("n" + suffix);
        var feeder = await lab.AddHostAsync("f" + suffix);
        var monitor = await lab.AddHostAsync("m" + suffix);
        await lab.ConnectToSwitchAsync("sw" + suffix, (node, "10.192.0.2/16"), (feeder, "10.192.0.3/16"), (monitor, "10.192.0.4/16"));
        foreach (var r in LearnedRoutes)
            (await node.IpAsync(["route", "add", .. r])).ThrowIfFailed("learned route " + r[0]);
        var dir = Path.Combine(CorpusCases.Root, Case);
        node.WriteFile("bird_aggr.cfg", await File.ReadAllTextAsync(Path.Combine(dir, "bird_aggr.cfg")));
        node.WriteFile("bird_ipam.cfg", await File.ReadAllTextAsync(Path.Combine(dir, "bird_ipam.cfg")));
        await startRouter(node, await File.ReadAllTextAsync(Path.Combine(dir, "bird.cfg")));
        await BirdPeer.StartBird2Async(feeder, Feeder);
        return new Node(node, await BirdPeer.StartBird2Async(monitor, Monitor));
    }

    /// <summary>What the kernel compares on: prefix, type, gateway, device, metric, onlink (and multipath gateways).</summary>
    private static async Task<List<string>> KernelAsync(LabHost host) =>
        [.. (await host.RoutesAsync()).Where(r => r.Protocol == "bird")
            .Select(r => $"{r.Dst} {r.Type} via={r.Gateway} dev={r.Dev} metric={r.Metric} onlink={r.IsOnlink} mp=[{string.Join(',', r.MultipathGateways)}]")
            .Order(StringComparer.Ordinal)];

    [GeneratedRegex(@"^\s*BGP\.(origin|as_path|next_hop|local_pref|community|large_community|med):\s*(.*)$")]
    private static partial Regex BgpAttribute();

    /// <summary>The monitor's routes from the node: prefix and the BGP attributes, one line per route.</summary>
    private static async Task<List<string>> ExportedAsync(BirdPeer monitor)
    {
        var text = await monitor.CommandAsync("show route all protocol peer1");
        var routes = new List<string>();
        string? current = null;
        var attrs = new SortedDictionary<string, string>(StringComparer.Ordinal);
        void Flush()
        {
            if (current is not null)
                routes.Add(current + " " + string.Join(' ', attrs.Select(a => $"{a.Key}=[{a.Value}]")));
            attrs.Clear();
        }
        foreach (var line in text.Split('\n'))
        {
            var head = Regex.Match(line, @"^(\d+\.\d+\.\d+\.\d+/\d+)\s");
            if (head.Success)
            {
                Flush();
                current = head.Groups[1].Value;
                continue;
            }
            var a = BgpAttribute().Match(line);
            if (a.Success)
                attrs[a.Groups[1].Value] = a.Groups[2].Value.Trim();
        }
        Flush();
        routes.Sort(StringComparer.Ordinal);
        return routes;
    }

    [Fact]
    public async Task Ours_programs_the_kernel_and_exports_as_bird16_does()
    {
        await using var lab = await TestLab.CreateAsync("vs16");
        BirdPeer? bird16 = null;
        OurDaemon? ours = null;
        var reference = await NodeAsync(lab, "1", async (host, config) => bird16 = await BirdPeer.StartBird16Async(host, config));
        var candidate = await NodeAsync(lab, "2", async (host, config) => ours = await OurDaemon.StartAsync(host, config));

        async Task<string> Describe() =>
            $"BIRD 1.6 kernel:\n{string.Join('\n', await KernelAsync(reference.Host))}\nours kernel:\n{string.Join('\n', await KernelAsync(candidate.Host))}\n"
            + $"BIRD 1.6 exports:\n{string.Join('\n', await ExportedAsync(reference.Monitor))}\nours exports:\n{string.Join('\n', await ExportedAsync(candidate.Monitor))}\n"
            + await bird16!.CommandAsync("show protocols") + await ours!.CommandAsync("show protocols") + lab.Diagnostics();

        // Converged on both: the feeder's five routes in the kernel, and the blocks and learned routes at the monitor.
        await Wait.UntilAsync(async () =>
            (await KernelAsync(reference.Host)).Count(r => r.Contains(" via=10.192.0.3", StringComparison.Ordinal)) == 5
            && (await ExportedAsync(reference.Monitor)).Count >= 4
            && (await KernelAsync(candidate.Host)).SequenceEqual(await KernelAsync(reference.Host))
            && (await ExportedAsync(candidate.Monitor)).SequenceEqual(await ExportedAsync(reference.Monitor)),
            Converge, "ours and BIRD 1.6 to program and export the same", Describe);

        // Still the same a few scan times later (nothing flaps in one and not the other).
        await Task.Delay(TimeSpan.FromSeconds(5));
        Assert.Equal(await KernelAsync(reference.Host), await KernelAsync(candidate.Host));
        var exported = await ExportedAsync(reference.Monitor);
        Assert.Equal(exported, await ExportedAsync(candidate.Monitor));
        // The inputs reached the filters: communities were applied, a learned route was exported and another was held back.
        Assert.Contains(exported, r => r.StartsWith("192.168.50.0/24 ", StringComparison.Ordinal) && r.Contains("(100,6532)", StringComparison.Ordinal));
        Assert.DoesNotContain(exported, r => r.StartsWith("192.168.221.80/32 ", StringComparison.Ordinal));
        Assert.DoesNotContain(exported, r => r.StartsWith("172.30.0.0/16 ", StringComparison.Ordinal));
    }
}
