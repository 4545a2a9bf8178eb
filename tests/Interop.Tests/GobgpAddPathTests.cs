namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// ADD-PATH receive (RFC 7911) from GoBGP: GoBGP holds two paths for one prefix (added with two
/// path identifiers and two next hops) and, with <c>send-max</c>, announces both; ours with
/// <c>add paths rx</c> keeps both, and a withdrawal of one path identifier removes only that path.
/// </summary>
public class GobgpAddPathTests
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(60);
    private const string Protocol = "Node_10_0_0_2";
    private const string Prefix = "10.70.1.0/24";

    private static string OurConfig => $$"""
        router id 10.0.0.1;
        protocol device { scan time 2; }
        protocol direct { interface -"cali*", -"kube-ipvs*", "*"; }
        protocol kernel { scan time 2; import none; export all; }
        protocol bgp {{Protocol}} {
          local as 64512;
          neighbor 10.0.0.2 as 64512;
          source address 10.0.0.1;
          add paths rx;
          connect delay time 2;
          connect retry time 5;
          error wait time 5,30;
          import all;
          export none;
        }
        """;

    /// <summary>GoBGP sending up to 8 paths per prefix to ours (RFC 7911 send, and receive), IPv4 unicast.</summary>
    private const string GobgpConfig = """
        [global.config]
          as = 64512
          router-id = "10.0.0.2"
        [[neighbors]]
          [neighbors.config]
            neighbor-address = "10.0.0.1"
            peer-as = 64512
          [neighbors.timers.config]
            connect-retry = 1
          [[neighbors.afi-safis]]
            [neighbors.afi-safis.config]
              afi-safi-name = "ipv4-unicast"
            [neighbors.afi-safis.add-paths.config]
              receive = true
              send-max = 8
        """;

    /// <summary>The next hops of the paths ours holds for <see cref="Prefix"/> from GoBGP.</summary>
    private static async Task<List<string>> NextHopsAsync(OurDaemon ours)
    {
        var text = await ours.CommandAsync($"show route {Prefix} all protocol {Protocol}");
        return [.. text.Split('\n').Select(l => l.Trim()).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .SelectMany(w => w.Select((word, i) => (word, i, w)).Where(x => x.word == "via" && x.i + 1 < x.w.Length).Select(x => x.w[x.i + 1]))
            .Order(StringComparer.Ordinal)];
    }

    [Fact]
    public async Task Two_paths_of_one_prefix_are_both_kept_and_withdrawn_one_by_one()
    {
        await using var lab = await TestLab.CreateAsync("gobgp-addpath");
        var a = await lab.AddHostAsync("a");
        var b = await lab.AddHostAsync("b");
        await lab.ConnectAsync(a, "10.0.0.1/24", b, "10.0.0.2/24");
        var gobgp = await GobgpPeer.StartAsync(b, GobgpConfig);
        var ours = await OurDaemon.StartAsync(a, OurConfig);
        async Task<string> Describe() =>
            await ours.CommandAsync("show protocols all") + await ours.CommandAsync($"show route {Prefix} all") +
            (await gobgp.CliAsync("global", "rib", "-a", "ipv4")).StdOut + (await gobgp.CliAsync("neighbor", "10.0.0.1")).StdOut + lab.Diagnostics();

        await Wait.UntilAsync(async () => await ours.IsEstablishedAsync(Protocol) && await gobgp.IsEstablishedAsync("10.0.0.1"), Converge, "the session to establish", Describe);
        // Both sides agreed on ADD-PATH: GoBGP may send, ours receives.
        var neighbor = (await gobgp.CliAsync("neighbor", "10.0.0.1")).StdOut;
        Assert.Contains("add-path", neighbor, StringComparison.OrdinalIgnoreCase);

        // Two paths for one prefix: path identifiers 1 and 2, next hops 10.0.0.3 and 10.0.0.4 (on the link).
        (await gobgp.CliAsync("global", "rib", "add", Prefix, "identifier", "1", "nexthop", "10.0.0.3", "-a", "ipv4")).ThrowIfFailed("gobgp add path 1");
        (await gobgp.CliAsync("global", "rib", "add", Prefix, "identifier", "2", "nexthop", "10.0.0.4", "-a", "ipv4")).ThrowIfFailed("gobgp add path 2");
        await Wait.UntilAsync(async () => (await NextHopsAsync(ours)).SequenceEqual(["10.0.0.3", "10.0.0.4"]), Converge, "both paths in our table", Describe);
        // One of them is best and goes to the kernel.
        await Wait.UntilAsync(async () => (await a.RoutesAsync()).Any(r => r.Dst == Prefix && r.Protocol == "bird"), Converge, "the best path in the kernel", Describe);

        // Withdraw path 1 only: path 2 stays.
        (await gobgp.CliAsync("global", "rib", "del", Prefix, "identifier", "1", "-a", "ipv4")).ThrowIfFailed("gobgp del path 1");
        await Wait.UntilAsync(async () => (await NextHopsAsync(ours)).SequenceEqual(["10.0.0.4"]), Converge, "only path 2 left", Describe);
        await Wait.UntilAsync(async () => (await a.RoutesAsync()).Any(r => r.Dst == Prefix && r.Protocol == "bird" && r.Gateway == "10.0.0.4"), Converge, "path 2 in the kernel", Describe);

        // And the last one: the prefix is gone.
        (await gobgp.CliAsync("global", "rib", "del", Prefix, "identifier", "2", "-a", "ipv4")).ThrowIfFailed("gobgp del path 2");
        await Wait.UntilAsync(async () => (await NextHopsAsync(ours)).Count == 0, Converge, "no path left", Describe);
        await Wait.UntilAsync(async () => !(await a.RoutesAsync()).Any(r => r.Dst == Prefix), Converge, "the prefix gone from the kernel", Describe);
    }
}
