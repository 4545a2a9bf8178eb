using System.Text;
using System.Text.Json;

namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// Our daemon as a route reflector (RFC 4456) for BIRD 2, GoBGP and FRR clients on one subnet, all in
/// AS 64512: each client learns the others' blocks with ORIGINATOR_ID and CLUSTER_LIST; two of our
/// reflectors sharing a cluster id drop each other's reflections (§8); and a client restarting with
/// graceful restart (RFC 4724) withdraws nothing at the others nor in our kernel.
/// </summary>
public class RouteReflectorTests
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(60);
    private const string ClusterId = "1.1.1.1";
    private const string Rr1 = "10.0.0.1";
    private const string Rr2 = "10.0.0.5";
    private const string BirdIp = "10.0.0.2";
    private const string GobgpIp = "10.0.0.3";
    private const string FrrIp = "10.0.0.4";
    private const string BirdBlock = "10.50.2.0/24";
    private const string GobgpBlock = "10.50.3.0/24";
    private const string FrrBlock = "10.50.4.0/24";

    /// <summary>Our config: one iBGP session per peer, clients marked <c>rr client</c>, one cluster id for all.</summary>
    private static string Reflector(string routerId, bool gracefulRestart, params (string Name, string Ip, bool Client)[] peers)
    {
        var sb = new StringBuilder($"router id {routerId};\nprotocol device {{ scan time 2; }}\n");
        // With a kernel to program, the clients' next hops resolve through the connected network
        // (iBGP's gateway is recursive); a reflector alone reflects them unresolved, as BIRD does.
        if (gracefulRestart)
            sb.Append("protocol kernel { persist; scan time 2; import all; export all; }\nprotocol direct { interface -\"cali*\", -\"kube-ipvs*\", \"*\"; }\n");
        foreach (var (name, ip, client) in peers)
        {
            sb.Append($$"""
                protocol bgp {{name}} {
                  local as 64512;
                  neighbor {{ip}} as 64512;
                  {{(client ? "rr client;" : "")}}
                  rr cluster id {{ClusterId}};
                  import all;
                  export all;
                  connect delay time 2;
                  connect retry time 5;
                  error wait time 5,30;
                  {{(gracefulRestart ? "graceful restart;" : "")}}
                }

                """);
        }
        return sb.ToString();
    }

    private static string BirdClient(bool gracefulRestart, params string[] reflectors)
    {
        var sb = new StringBuilder($$"""
            router id {{BirdIp}};
            protocol device { scan time 2; }
            protocol static { ipv4; route {{BirdBlock}} blackhole; }

            """);
        for (var i = 0; i < reflectors.Length; i++)
        {
            sb.Append($$"""
                protocol bgp rr{{i + 1}} {
                  local {{BirdIp}} as 64512;
                  neighbor {{reflectors[i]}} as 64512;
                  connect retry time 1;
                  direct;
                  {{(gracefulRestart ? "graceful restart on;" : "")}}
                  ipv4 { import all; export all; };
                }

                """);
        }
        return sb.ToString();
    }

    private static string GobgpClient(params string[] reflectors)
    {
        var sb = new StringBuilder($"""
            [global.config]
              as = 64512
              router-id = "{GobgpIp}"

            """);
        foreach (var rr in reflectors)
        {
            sb.Append($"""
                [[neighbors]]
                  [neighbors.config]
                    neighbor-address = "{rr}"
                    peer-as = 64512
                  [neighbors.timers.config]
                    connect-retry = 1

                """);
        }
        return sb.ToString();
    }

    private static string FrrClient(params string[] reflectors)
    {
        var neighbors = string.Concat(reflectors.Select(rr => $" neighbor {rr} remote-as 64512\n neighbor {rr} timers connect 1\n"));
        return $"""
            hostname frr
            router bgp 64512
             bgp router-id {FrrIp}
             no bgp ebgp-requires-policy
             no bgp network import-check
            {neighbors} address-family ipv4 unicast
              network {FrrBlock}
             exit-address-family
            """;
    }

    private sealed record Clients(BirdPeer Bird, GobgpPeer Gobgp, FrrPeer Frr);

    private static async Task<Clients> StartClientsAsync(LabHost bird, LabHost gobgp, LabHost frr, bool gracefulRestart, params string[] reflectors)
    {
        var b = await BirdPeer.StartBird2Async(bird, BirdClient(gracefulRestart, reflectors));
        var g = await GobgpPeer.StartAsync(gobgp, GobgpClient(reflectors));
        (await g.CliAsync("global", "rib", "add", GobgpBlock, "-a", "ipv4")).ThrowIfFailed("gobgp rib add");
        var f = await FrrPeer.StartAsync(frr, FrrClient(reflectors));
        return new Clients(b, g, f);
    }

    private static async Task<string> BirdRouteAsync(Clients c, string prefix) => await c.Bird.CommandAsync($"show route {prefix} all");

    private static async Task<string> GobgpAdjInAsync(Clients c, string neighbor) =>
        (await c.Gobgp.CliAsync("neighbor", neighbor, "adj-in", "-a", "ipv4")).StdOut;

    private static async Task<string> GobgpRibAsync(Clients c) => (await c.Gobgp.CliAsync("global", "rib", "-a", "ipv4")).StdOut;

    private static async Task<string> FrrRouteJsonAsync(Clients c, string prefix) =>
        (await c.Frr.VtyshAsync($"show bgp ipv4 unicast {prefix} json")).StdOut;

    /// <summary>The reflection attributes of FRR's paths for a prefix: (originatorId, cluster list) per path.</summary>
    private static List<(string? Originator, string[] Clusters)> FrrReflection(string json)
    {
        var paths = new List<(string?, string[])>();
        if (string.IsNullOrWhiteSpace(json))
            return paths;
        using var doc = JsonDocument.Parse(json);
        if (!doc.RootElement.TryGetProperty("paths", out var list))
            return paths;
        foreach (var p in list.EnumerateArray())
        {
            var originator = p.TryGetProperty("originatorId", out var o) ? o.GetString() : null;
            var clusters = p.TryGetProperty("clusterList", out var cl) && cl.TryGetProperty("list", out var l)
                ? [.. l.EnumerateArray().Select(x => x.GetString() ?? "")]
                : Array.Empty<string>();
            paths.Add((originator, clusters));
        }
        return paths;
    }

    /// <summary>The gobgp adj-in line of a prefix, or null.</summary>
    private static string? Line(string table, string prefix) =>
        table.Split('\n').FirstOrDefault(l => l.Contains(prefix, StringComparison.Ordinal));

    private static async Task<(TestLab Lab, LabHost Rr, LabHost Bird, LabHost Gobgp, LabHost Frr, LabHost? Rr2)> SubnetAsync(string name, bool twoReflectors)
    {
        var lab = await TestLab.CreateAsync(name);
        var rr = await lab.AddHostAsync("rr");
        var bird = await lab.AddHostAsync("bird");
        var gobgp = await lab.AddHostAsync("gobgp");
        var frr = await lab.AddHostAsync("frr");
        var rr2 = twoReflectors ? await lab.AddHostAsync("rr2") : null;
        var members = new List<(LabHost, string)> { (rr, Rr1 + "/24"), (bird, BirdIp + "/24"), (gobgp, GobgpIp + "/24"), (frr, FrrIp + "/24") };
        if (rr2 is not null)
            members.Add((rr2, Rr2 + "/24"));
        await lab.ConnectToSwitchAsync("sw", [.. members]);
        return (lab, rr, bird, gobgp, frr, rr2);
    }

    private static (string, string, bool)[] ClientPeers => [("Client_bird", BirdIp, true), ("Client_gobgp", GobgpIp, true), ("Client_frr", FrrIp, true)];

    [Fact]
    public async Task Ours_reflects_each_clients_block_to_the_others_with_originator_id_and_cluster_list()
    {
        var (lab, rrHost, birdHost, gobgpHost, frrHost, _) = await SubnetAsync("rr-three", twoReflectors: false);
        await using var _ = lab;
        var ours = await OurDaemon.StartAsync(rrHost, Reflector(Rr1, false, ClientPeers));
        var c = await StartClientsAsync(birdHost, gobgpHost, frrHost, false, Rr1);

        async Task<string> Describe() =>
            await ours.CommandAsync("show protocols") + await ours.CommandAsync("show route all")
            + "\nbird:\n" + await BirdRouteAsync(c, "") + "\ngobgp:\n" + await GobgpAdjInAsync(c, Rr1)
            + "\nfrr:\n" + (await c.Frr.VtyshAsync("show bgp ipv4 unicast")).StdOut + lab.Diagnostics();

        await Wait.UntilAsync(async () =>
            (await BirdRouteAsync(c, GobgpBlock)).Contains(GobgpBlock, StringComparison.Ordinal)
            && (await BirdRouteAsync(c, FrrBlock)).Contains(FrrBlock, StringComparison.Ordinal)
            && Line(await GobgpAdjInAsync(c, Rr1), BirdBlock) is not null
            && Line(await GobgpAdjInAsync(c, Rr1), FrrBlock) is not null
            && FrrReflection(await FrrRouteJsonAsync(c, BirdBlock)).Count > 0
            && FrrReflection(await FrrRouteJsonAsync(c, GobgpBlock)).Count > 0,
            Converge, "every client to learn the other clients' blocks through the reflector", Describe);

        // BIRD 2 reads the reflection attributes of the GoBGP and FRR blocks.
        foreach (var (block, origin) in new[] { (GobgpBlock, GobgpIp), (FrrBlock, FrrIp) })
        {
            var text = await BirdRouteAsync(c, block);
            Assert.Contains($"BGP.originator_id: {origin}", text, StringComparison.Ordinal);
            Assert.Contains($"BGP.cluster_list: {ClusterId}", text, StringComparison.Ordinal);
            Assert.Contains($"BGP.next_hop: {origin}", text, StringComparison.Ordinal);
        }

        // GoBGP prints them per path of its Adj-RIB-In from the reflector.
        var adjIn = await GobgpAdjInAsync(c, Rr1);
        foreach (var (block, origin) in new[] { (BirdBlock, BirdIp), (FrrBlock, FrrIp) })
        {
            var line = Line(adjIn, block)!;
            Assert.Contains($"{{Originator: {origin}}}", line, StringComparison.Ordinal);
            Assert.Contains($"{{ClusterList: [{ClusterId}]}}", line, StringComparison.Ordinal);
        }

        // FRR's JSON for the BIRD and GoBGP blocks.
        foreach (var (block, origin) in new[] { (BirdBlock, BirdIp), (GobgpBlock, GobgpIp) })
        {
            var path = Assert.Single(FrrReflection(await FrrRouteJsonAsync(c, block)));
            Assert.Equal(origin, path.Originator);
            Assert.Equal([ClusterId], path.Clusters);
        }

        // A client's own block is not reflected back to it (split horizon and ORIGINATOR_ID).
        Assert.Null(Line(adjIn, GobgpBlock));
    }

    [Fact]
    public async Task Two_reflectors_with_one_cluster_id_drop_each_others_reflections()
    {
        var (lab, rrHost, birdHost, gobgpHost, frrHost, rr2Host) = await SubnetAsync("rr-pair", twoReflectors: true);
        await using var _ = lab;
        var one = await OurDaemon.StartAsync(rrHost, Reflector(Rr1, false, [.. ClientPeers, ("Rr_other", Rr2, false)]));
        var two = await OurDaemon.StartAsync(rr2Host!, Reflector(Rr2, false, [.. ClientPeers, ("Rr_other", Rr1, false)]));
        var c = await StartClientsAsync(birdHost, gobgpHost, frrHost, false, Rr1, Rr2);

        async Task<string> Describe() =>
            "rr1:\n" + await one.CommandAsync("show protocols all") + await one.CommandAsync("show route all")
            + "\nrr2:\n" + await two.CommandAsync("show protocols all") + await two.CommandAsync("show route all")
            + "\nbird:\n" + await BirdRouteAsync(c, "") + lab.Diagnostics();

        // Each reflector learns every block from its client and reflects it to the other (a non-client).
        await Wait.UntilAsync(async () =>
            await one.IsEstablishedAsync("Rr_other") && await two.IsEstablishedAsync("Rr_other")
            && (await BirdRouteAsync(c, GobgpBlock)).Split("via").Length - 1 >= 2
            && (await BirdRouteAsync(c, FrrBlock)).Split("via").Length - 1 >= 2
            && (await one.CommandAsync("show protocols all Rr_other")).Contains("3 exported", StringComparison.Ordinal)
            && (await two.CommandAsync("show protocols all Rr_other")).Contains("3 exported", StringComparison.Ordinal),
            Converge, "both reflectors to carry the three blocks and send them to each other", Describe);

        // What each sent the other came back with their shared cluster id in CLUSTER_LIST: rejected (RFC 4456 §8).
        foreach (var rr in new[] { one, two })
        {
            Assert.Contains("0 imported", await rr.CommandAsync("show protocols all Rr_other"), StringComparison.Ordinal);
            var viaOther = await rr.CommandAsync("show route protocol Rr_other");
            foreach (var block in new[] { BirdBlock, GobgpBlock, FrrBlock })
            {
                Assert.DoesNotContain(block, viaOther, StringComparison.Ordinal);
                Assert.Contains(block, await rr.CommandAsync($"show route {block}"), StringComparison.Ordinal);
            }
        }
        // The clients hear every block once from each reflector, each with one cluster id: no loop.
        var text = await BirdRouteAsync(c, FrrBlock);
        Assert.Equal(2, text.Split($"BGP.cluster_list: {ClusterId}\n").Length - 1);
    }

    [Fact]
    public async Task A_client_restarting_gracefully_withdraws_nothing_at_the_others_nor_in_our_kernel()
    {
        var (lab, rrHost, birdHost, gobgpHost, frrHost, _) = await SubnetAsync("rr-gr", twoReflectors: false);
        await using var _ = lab;
        var ours = await OurDaemon.StartAsync(rrHost, Reflector(Rr1, true, ClientPeers));
        var c = await StartClientsAsync(birdHost, gobgpHost, frrHost, true, Rr1);

        async Task<string> Describe() =>
            await ours.CommandAsync("show protocols all Client_bird") + await ours.CommandAsync("show route all") + await rrHost.RoutesTextAsync()
            + "\ngobgp:\n" + await GobgpRibAsync(c) + "\nfrr:\n" + (await c.Frr.VtyshAsync("show bgp ipv4 unicast")).StdOut + lab.Diagnostics();

        await Wait.UntilAsync(async () =>
            await ours.IsEstablishedAsync("Client_bird")
            && (await rrHost.RoutesAsync()).Any(r => r.Dst == BirdBlock && r.Gateway == BirdIp && r.Protocol == "bird")
            && (await GobgpRibAsync(c)).Contains(BirdBlock, StringComparison.Ordinal)
            && FrrReflection(await FrrRouteJsonAsync(c, BirdBlock)).Count > 0,
            Converge, "the BIRD client's block to reach our kernel and the other clients", Describe);

        // Every change to the block in our kernel, from just before the crash to after the recovery.
        var monitor = rrHost.Start("ip-monitor", "ip", ["monitor", "route"]);
        await Wait.UntilAsync(() => !monitor.HasExited, TimeSpan.FromSeconds(5), "ip monitor to run");
        var missing = new List<string>();
        async Task Check(string when)
        {
            if (!(await GobgpRibAsync(c)).Contains(BirdBlock, StringComparison.Ordinal))
                missing.Add($"GoBGP lost {BirdBlock} {when}");
            if (FrrReflection(await FrrRouteJsonAsync(c, BirdBlock)).Count == 0)
                missing.Add($"FRR lost {BirdBlock} {when}");
            if (!(await rrHost.RoutesAsync()).Any(r => r.Dst == BirdBlock && r.Gateway == BirdIp))
                missing.Add($"our kernel lost {BirdBlock} {when}");
        }

        await c.Bird.Process!.KillAsync();
        await Wait.UntilAsync(async () =>
        {
            await Check("while BIRD was down");
            return !await ours.IsEstablishedAsync("Client_bird");
        }, Converge, "ours to notice the client is gone", Describe);
        // Down for a while: the stale routes must hold (restart time 120 s by default).
        for (var i = 0; i < 10; i++)
        {
            await Check("while BIRD was down");
            await Task.Delay(300);
        }
        // A graceful restart proper: BIRD comes back in recovery (-R), so its OPEN keeps the forwarding
        // state bit and the stale routes may stay until its End-of-RIB (RFC 4724 §4.2); without it they must go.
        await c.Bird.RestartAsync("-R");
        await Wait.UntilAsync(async () =>
        {
            await Check("while BIRD came back");
            return await ours.IsEstablishedAsync("Client_bird")
                && !(await ours.CommandAsync($"show route {BirdBlock} all")).Contains("stale", StringComparison.OrdinalIgnoreCase);
        }, Converge, "the client to come back and its routes to be fresh again", Describe);
        for (var i = 0; i < 10; i++)
        {
            await Check("after BIRD came back");
            await Task.Delay(300);
        }

        Assert.Empty(missing);
        var changes = monitor.Output.Split('\n').Where(l => l.Contains(BirdBlock, StringComparison.Ordinal)).ToList();
        Assert.True(changes.Count == 0, "kernel route changes on ours:\n" + string.Join('\n', changes));
        await monitor.StopAsync();
    }
}
