namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// The IPv6 daemon end to end: ours, run as <c>bird6</c> with a BIRD 1.6 single-family config as
/// calico-node's confd writes it, peers with BIRD 2 over an IPv6-only veth, programs BIRD 2's block
/// into its kernel, advertises its own block with its address as next hop, and follows a withdrawal.
/// </summary>
public sealed class Ipv6InteropTests : IDisposable
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(40);

    private const string OurConfig = """
        router id 10.0.0.1;

        protocol kernel {
          persist;
          scan time 2;
          import all;
          export all;
        }

        protocol device {
          scan time 2;
        }
        protocol direct { interface -"cali*", -"kube-ipvs*", "*"; }

        protocol static {
          route fd00:60:1::/48 blackhole;
        }

        protocol bgp Node_fd00__2 {
          local as 64512;
          neighbor fd00::2 as 64512;
          source address fd00::1;
          connect delay time 1;
          connect retry time 2;
          error wait time 1,5;
          import all;
          export all;
        }
        """;

    // Our daemon picks its address family from the name it was run as, as calico-node runs the same binary as bird and bird6.
    private readonly string _bin = Directory.CreateTempSubdirectory("calico-bgpd-bird6-").FullName;

    public Ipv6InteropTests() => File.CreateSymbolicLink(Path.Combine(_bin, "bird6"), LabTools.Daemon);

    public void Dispose() => Directory.Delete(_bin, recursive: true);

    private static string Bird2Config(params string[] blackholes)
    {
        var statics = string.Concat(blackholes.Select(p => $"  route {p} blackhole;\n"));
        return $$"""
            router id 10.0.0.2;
            protocol device { scan time 2; }
            protocol static {
              ipv6;
            {{statics}}}
            protocol bgp peer1 {
              local fd00::2 as 64512;
              neighbor fd00::1 as 64512;
              connect retry time 1;
              direct;
              ipv6 { import all; export all; };
            }
            """;
    }

    [Fact]
    public async Task Ours_as_bird6_and_bird2_exchange_ipv6_blocks_and_ours_follows_a_withdrawal()
    {
        await using var lab = await TestLab.CreateAsync("ipv6");
        var a = await lab.AddHostAsync("a");
        var b = await lab.AddHostAsync("b");
        await lab.ConnectAsync(a, "fd00::1/64", b, "fd00::2/64");
        var bird = await BirdPeer.StartBird2Async(b, Bird2Config("fd00:50:1::/48"));

        var config = a.WriteFile("bird6.cfg", OurConfig);
        var socket = Path.Combine(a.Dir, "bird6.ctl");
        var ours = a.Start("bird6", Path.Combine(_bin, "bird6"), ["-d", "-c", config, "-s", socket]);
        async Task<string> Ours(string command)
        {
            var r = await Shell.RunAsync(LabTools.Bird2Client, ["-s", socket, .. command.Split(' ')]);
            return r.StdOut + r.StdErr;
        }
        await Wait.UntilAsync(async () =>
        {
            if (ours.HasExited)
                throw new InvalidOperationException($"calico-bgpd as bird6 exited with {ours.ExitCode}:\n{ours.Output}");
            return File.Exists(socket) && (await Ours("show status")).Contains("ready", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(20), "calico-bgpd as bird6 to start");

        async Task<string> Describe() =>
            await a.RoutesTextAsync(ipv6: true) + "\nours:\n" + await Ours("show protocols all Node_fd00__2") + "\nbird:\n"
            + await bird.CommandAsync("show protocols all peer1") + await bird.CommandAsync("show route all") + lab.Diagnostics();

        await Wait.UntilAsync(async () =>
            (await Ours("show protocols Node_fd00__2")).Contains("Established", StringComparison.Ordinal)
            && await bird.IsEstablishedAsync("peer1")
            // Through BIRD 2's link-local next hop on eth0, as BIRD 1.6 resolves it (`gateway recursive`, RFC 2545 §3).
            && (await a.RoutesAsync(ipv6: true)).Any(r => r.Dst == "fd00:50:1::/48" && r.Gateway!.StartsWith("fe80::", StringComparison.Ordinal) && r.Dev == "eth0" && r.Protocol == "bird")
            && (await bird.CommandAsync("show route")).Contains("fd00:60:1::/48", StringComparison.Ordinal),
            Converge, "the IPv6 session to establish and routes to be exchanged", Describe);

        // Both ends say so in their own words: ours through the BIRD 1.6 socket dialect, BIRD 2 in its own.
        Assert.Contains("Established", await Ours("show protocols"), StringComparison.Ordinal);
        Assert.Contains("Established", await bird.CommandAsync("show protocols all peer1"), StringComparison.Ordinal);
        Assert.Contains(await a.RoutesAsync(ipv6: true),
            r => r.Dst == "fd00:50:1::/48" && r.Gateway!.StartsWith("fe80::", StringComparison.Ordinal) && r.Dev == "eth0" && r.Protocol == "bird");

        // BIRD 2 prints the global and, when one was sent, the link-local next hop on one line; the global one must be ours.
        var birdRoute = await bird.CommandAsync("show route all fd00:60:1::/48");
        var nextHop = birdRoute.Split('\n').FirstOrDefault(l => l.Contains("BGP.next_hop:", StringComparison.Ordinal));
        Assert.True(nextHop is not null, $"no BGP.next_hop in BIRD's view of our route:\n{birdRoute}");
        Assert.Contains("fd00::1", nextHop, StringComparison.Ordinal);

        // BIRD 2 withdraws its block: it leaves our kernel.
        await bird.ReconfigureAsync(Bird2Config());
        await Wait.UntilAsync(async () => !(await a.RoutesAsync(ipv6: true)).Any(r => r.Dst == "fd00:50:1::/48"),
            Converge, "the withdrawn IPv6 route to leave our kernel", Describe);
        Assert.True((await Ours("show protocols Node_fd00__2")).Contains("Established", StringComparison.Ordinal),
            "the withdrawal must not have cost the session:\n" + await Describe());
    }
}
