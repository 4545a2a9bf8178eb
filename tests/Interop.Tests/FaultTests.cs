using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// Bad days, each bounded in time: a hundred reloads while routes flow, a peer killed in the middle
/// of a large table, links that drop for less and more than the hold time, and a storm of reset
/// connections against port 179. Ours keeps routing through each, and loses nothing it should keep.
/// </summary>
public class FaultTests
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(60);
    private const string Peer = "Node_10_0_0_2";

    private static string Ours(string extraStatic = "", int holdTime = 240) => $$"""
        router id 10.0.0.1;
        protocol kernel { persist; scan time 2; import all; export all; }
        protocol device { scan time 2; }
        protocol direct { interface -"cali*", -"kube-ipvs*", "*"; }
        protocol static {
          route 10.60.1.0/24 blackhole;
        {{extraStatic}}}
        protocol bgp Node_10_0_0_2 {
          local as 64512;
          neighbor 10.0.0.2 as 64512;
          source address 10.0.0.1;
          hold time {{holdTime}};
          connect delay time 1;
          connect retry time 2;
          error wait time 1,5;
          import all;
          export all;
        }
        """;

    /// <summary>
    /// BIRD 2 exporting <paramref name="routes"/> blackholes. <paramref name="direct"/> makes BIRD drop
    /// the session as soon as its interface goes down; without it BIRD, like ours, waits for the hold timer.
    /// </summary>
    private static string Bird(int routes, int holdTime = 240, bool direct = true)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < routes; i++)
            sb.Append("  route 10.").Append(100 + i / 256).Append('.').Append(i % 256).Append(".0/24 blackhole;\n");
        return $$"""
            router id 10.0.0.2;
            protocol device { scan time 2; }
            protocol static {
              ipv4;
            {{sb}}}
            protocol bgp peer1 {
              local 10.0.0.2 as 64512;
              neighbor 10.0.0.1 as 64512;
              {{(direct ? "direct;" : "multihop;")}}
              hold time {{holdTime}};
              connect retry time 1;
              error wait time 1,5;
              ipv4 { import all; export all; };
            }
            """;
    }

    /// <summary>The lab with BIRD 2's <paramref name="birdRoutes"/> routes in A's kernel.</summary>
    private static async Task<BirdNeighbourLab> StartAsync(string name, int birdRoutes, int holdTime = 240, bool direct = true, bool withC = false)
    {
        var l = await BirdNeighbourLab.StartAsync(name, Ours(holdTime: holdTime), Bird(birdRoutes, holdTime, direct), withC);
        try
        {
            await Wait.UntilAsync(async () => await KernelCountAsync(l.A) == birdRoutes, Converge, $"{birdRoutes} routes in A's kernel", Describe(l));
            return l;
        }
        catch
        {
            await l.DisposeAsync();
            throw;
        }
    }

    private static Func<Task<string>> Describe(BirdNeighbourLab l) => () => l.DescribeAsync("show protocols all");

    private static async Task<int> KernelCountAsync(LabHost host) =>
        (await host.RoutesAsync()).Count(r => r.Protocol == "bird" && r.Gateway == "10.0.0.2");

    private static int OpenFiles(int pid) => Directory.GetFiles($"/proc/{pid}/fd").Length;

    [Fact]
    public async Task A_hundred_reloads_while_routes_flow_do_not_flap_the_session_or_grow_the_daemon()
    {
        await using var l = await StartAsync("fault-reloads", 500);
        var (a, ours) = (l.A, l.Ours);
        var since = ProtocolSince.Of(await ours.CommandAsync("show protocols"), Peer);
        var pid = ours.Process!.Pid;
        var filesAt = new List<int>();
        var rssAt = new List<long>();
        for (var i = 1; i <= 100; i++)
        {
            // Each config differs (a static route comes and goes), so every reload really applies.
            var extra = i % 2 == 0 ? "  route 10.61.0.0/24 blackhole;\n" : "";
            await File.WriteAllTextAsync(ours.ConfigPath, Ours(extra));
            var reply = await ours.CommandAsync("configure");
            Assert.Contains("Reconfigured", reply, StringComparison.Ordinal);
            if (i is 10 or 100)
            {
                filesAt.Add(OpenFiles(pid));
                rssAt.Add(ProcStatus.RssKiB(pid));
            }
        }
        Assert.Equal(since, ProtocolSince.Of(await ours.CommandAsync("show protocols"), Peer));
        Assert.Equal(500, await KernelCountAsync(a));
        Assert.Contains(await a.RoutesAsync(), r => r.Dst == "10.61.0.0/24" && r.Type == "blackhole");
        // No handle leak; memory may settle but not grow with the number of reloads.
        Assert.True(filesAt[1] <= filesAt[0] + 2, $"open files grew from {filesAt[0]} to {filesAt[1]}");
        Assert.True(rssAt[1] < rssAt[0] * 3 / 2, $"RSS grew from {rssAt[0]} KiB to {rssAt[1]} KiB over 90 reloads");
    }

    [Fact]
    public async Task A_peer_killed_in_the_middle_of_a_large_table_costs_only_its_routes()
    {
        // Ours first, so that the table is still arriving when the peer is killed.
        await using var l = await BirdNeighbourLab.StartAsync("fault-midstream", Ours(), Bird(20_000), oursFirst: true);
        var (a, bird, ours) = (l.A, l.Bird, l.Ours);
        // Kill the peer while its table is still arriving.
        await Wait.UntilAsync(async () => await KernelCountAsync(a) > 0, Converge, "the first routes to arrive");
        await bird.Process!.KillAsync();
        await Wait.UntilAsync(async () => await KernelCountAsync(a) == 0, Converge, "every route of the dead peer withdrawn",
            Describe(l));
        Assert.False(ours.Process!.HasExited);
        Assert.Contains(await a.RoutesAsync(), r => r.Dst == "10.60.1.0/24" && r.Type == "blackhole");
        await bird.RestartAsync();
        await Wait.UntilAsync(async () => await KernelCountAsync(a) == 20_000, Converge, "the whole table after the peer came back",
            Describe(l));
    }

    [Fact]
    public async Task A_link_down_shorter_than_the_hold_time_is_ridden_out_and_a_longer_one_resets_and_recovers()
    {
        await using var l = await StartAsync("fault-link", 50, holdTime: 9, direct: false);
        var (a, b, ours) = (l.A, l.B, l.Ours);
        var since = ProtocolSince.Of(await ours.CommandAsync("show protocols"), Peer);

        // Shorter than the hold time: nothing happens.
        (await b.IpAsync("link", "set", "eth0", "down")).ThrowIfFailed("link down");
        await Task.Delay(TimeSpan.FromSeconds(2));
        (await b.IpAsync("link", "set", "eth0", "up")).ThrowIfFailed("link up");
        await Task.Delay(TimeSpan.FromSeconds(10));
        Assert.Equal(since, ProtocolSince.Of(await ours.CommandAsync("show protocols"), Peer));
        Assert.Equal(50, await KernelCountAsync(a));

        // Longer: the hold timer expires, the routes go, and all comes back with the link.
        (await b.IpAsync("link", "set", "eth0", "down")).ThrowIfFailed("link down");
        await Wait.UntilAsync(async () => (await ours.CommandAsync($"show protocols {Peer}")).Contains("Hold timer expired", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), "the hold timer to expire", async () => await ours.CommandAsync("show protocols all"));
        await Wait.UntilAsync(async () => await KernelCountAsync(a) == 0, Converge, "the peer's routes withdrawn");
        (await b.IpAsync("link", "set", "eth0", "up")).ThrowIfFailed("link up");
        await Wait.UntilAsync(async () => await ours.IsEstablishedAsync(Peer) && await KernelCountAsync(a) == 50, Converge, "the session and routes back",
            Describe(l));
    }

    [Fact]
    public async Task A_storm_of_reset_connections_on_port_179_does_not_disturb_the_session()
    {
        await using var l = await StartAsync("fault-rst", 50, withC: true);
        var (a, c, ours) = (l.A, l.C, l.Ours);
        var since = ProtocolSince.Of(await ours.CommandAsync("show protocols"), Peer);
        // A third host, not a configured neighbor, opens and resets 300 connections to ours.
        var connected = 0;
        var errors = new Dictionary<SocketError, int>();
        for (var i = 0; i < 300; i++)
        {
            using var s = NetnsSockets.Create(c.Netns, AddressFamily.InterNetwork);
            s.LingerState = new LingerOption(true, 0);
            try
            {
                await s.ConnectAsync(new IPEndPoint(IPAddress.Parse("10.0.1.1"), 179)).WaitAsync(TimeSpan.FromSeconds(5));
                connected++;
            }
            catch (SocketException e)
            {
                // Refused or reset by ours: what it should do with a stranger.
                errors[e.SocketErrorCode] = errors.GetValueOrDefault(e.SocketErrorCode) + 1;
            }
            // Linger 0: close sends RST.
        }
        var storm = $"{connected} of 300 connects completed; failed: {string.Join(", ", errors.Select(e => $"{e.Key} ×{e.Value}"))}";
        // The configured session is untouched by strangers.
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(since, ProtocolSince.Of(await ours.CommandAsync("show protocols"), Peer));
        Assert.True(await ours.IsEstablishedAsync(Peer));
        Assert.Equal(50, await KernelCountAsync(a));
        Assert.False(ours.Process!.HasExited);
        // Refusals are logged, but rate-limited: far fewer lines than connections. A connection the
        // stranger resets before ours takes it off the accept queue is counted in the same line.
        Assert.True(connected > 0, storm);
        var output = ours.Process.Output;
        var refusals = output.Split('\n').Count(l => l.Contains("10.0.1.2", StringComparison.Ordinal));
        Assert.True(refusals is >= 1 and <= 30, $"{refusals} lines naming 10.0.1.2 in ours' output ({storm}); its tail:\n{output[Math.Max(0, output.Length - 4000)..]}");
    }
}
