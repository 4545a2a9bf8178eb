namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// <c>--dual-stack</c>: one daemon of ours runs both families from one config, where BIRD 1.6 needs
/// a bird and a bird6. Against BIRD 2 with an IPv4 and an IPv6 session on one link, each session
/// carries its neighbor's family, our static blackholes of both families reach BIRD 2, and BIRD 2's
/// routes of both families land in our namespace's kernel tables with proto bird.
/// </summary>
public sealed class DualStackTests
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(90);

    private const string OurConfig = """
        router id 10.0.0.1;

        protocol kernel {
          persist;
          scan time 2;
          import all;
          export filter { if source = RTS_BGP then accept; reject; };
          merge paths on;
        }

        protocol device {
          scan time 2;
        }

        protocol direct {
          interface -"cali*", "*";
        }

        protocol static {
          route 10.60.1.0/26 blackhole;
          route fd00:60:1::/122 blackhole;
        }

        filter export_blocks {
          if net ~ [ 10.60.0.0/16+, fd00:60::/32+ ] then accept;
          reject;
        }

        template bgp bgp_template {
          local as 64512;
          gateway recursive;
          connect delay time 2;
          connect retry time 5;
          error wait time 5,30;
          import all;
          export filter export_blocks;
        }

        protocol bgp Node_10_0_0_2 from bgp_template {
          neighbor 10.0.0.2 as 64512;
          source address 10.0.0.1;
        }

        protocol bgp Node_fd00__2 from bgp_template {
          neighbor fd00::2 as 64512;
          source address fd00::1;
        }
        """;

    private const string Bird2Config = """
        router id 10.0.0.2;
        protocol device { scan time 2; }
        protocol static s4 { ipv4; route 10.50.1.0/24 blackhole; }
        protocol static s6 { ipv6; route fd00:50:1::/48 blackhole; }
        template bgp calico {
          local as 64512;
          direct;
          connect delay time 2;
          connect retry time 5;
          error wait time 5,30;
        }
        protocol bgp peer4 from calico {
          local 10.0.0.2 as 64512;
          neighbor 10.0.0.1 as 64512;
          ipv4 { import all; export all; };
        }
        protocol bgp peer6 from calico {
          local fd00::2 as 64512;
          neighbor fd00::1 as 64512;
          ipv6 { import all; export all; };
        }
        """;

    [Fact]
    public async Task One_daemon_runs_ipv4_and_ipv6_sessions_and_programs_both_kernel_tables()
    {
        await using var lab = await TestLab.CreateAsync("dualstack");
        var a = await lab.AddHostAsync("a");
        var b = await lab.AddHostAsync("b");
        await lab.ConnectAsync(a, "10.0.0.1/24", b, "10.0.0.2/24", "eth0", "eth0");
        await a.AddAddressAsync("eth0", "fd00::1/64");
        await b.AddAddressAsync("eth0", "fd00::2/64");
        var bird = await BirdPeer.StartBird2Async(b, Bird2Config);
        var ours = await OurDaemon.StartAsync(a, OurConfig, "--dual-stack");

        async Task<string> Describe() =>
            await a.RoutesTextAsync() + "\n" + await a.RoutesTextAsync(ipv6: true) + "\nours:\n" + await ours.CommandAsync("show protocols all")
            + await ours.CommandAsync("show route") + "\nbird:\n" + await bird.CommandAsync("show protocols all") + await bird.CommandAsync("show route")
            + "\n" + ours.Process!.Output + lab.Diagnostics();

        await Wait.UntilAsync(async () =>
            await ours.IsEstablishedAsync("Node_10_0_0_2") && await ours.IsEstablishedAsync("Node_fd00__2")
            && await bird.IsEstablishedAsync("peer4") && await bird.IsEstablishedAsync("peer6")
            && (await a.RoutesAsync()).Any(r => r.Dst == "10.50.1.0/24" && r.Protocol == "bird")
            && (await a.RoutesAsync(ipv6: true)).Any(r => r.Dst == "fd00:50:1::/48" && r.Protocol == "bird")
            && (await bird.CommandAsync("show route")).Contains("10.60.1.0/26", StringComparison.Ordinal)
            && (await bird.CommandAsync("show route")).Contains("fd00:60:1::/122", StringComparison.Ordinal),
            Converge, "both sessions Established and routes of both families exchanged", Describe);

        // Learned into the kernel tables of their own family, through the neighbor of that family.
        Assert.Contains(await a.RoutesAsync(), r => r.Dst == "10.50.1.0/24" && r.Gateway == "10.0.0.2" && r.Dev == "eth0" && r.Protocol == "bird");
        // IPv6 through the link-local next hop sent beside the global one (RFC 2545 §3): `gateway recursive`
        // finds fd00::2 on eth0's connected network and, as BIRD 1.6 does, forwards to its link-local companion.
        Assert.Contains(await a.RoutesAsync(ipv6: true), r => r.Dst == "fd00:50:1::/48" && r.Gateway!.StartsWith("fe80::", StringComparison.Ordinal) && r.Dev == "eth0" && r.Protocol == "bird");
        // Each session carried only its own family: BIRD 2 learned our IPv4 block from peer4 and the IPv6 one from peer6.
        Assert.Contains("peer4", await bird.CommandAsync("show route 10.60.1.0/26 all"), StringComparison.Ordinal);
        Assert.Contains("peer6", await bird.CommandAsync("show route fd00:60:1::/122 all"), StringComparison.Ordinal);
        var nextHop6 = (await bird.CommandAsync("show route fd00:60:1::/122 all")).Split('\n').FirstOrDefault(l => l.Contains("BGP.next_hop:", StringComparison.Ordinal));
        Assert.True(nextHop6 is not null && nextHop6.Contains("fd00::1", StringComparison.Ordinal), $"IPv6 next hop should be ours: {nextHop6}\n{await Describe()}");
        // Our own view lists both families, and the log says which daemon it is.
        var routes = await ours.CommandAsync("show route");
        Assert.Contains("10.50.1.0/24", routes, StringComparison.Ordinal);
        Assert.Contains("fd00:50:1::/48", routes, StringComparison.Ordinal);
        Assert.Contains("(IPv4 and IPv6,", ours.Process!.Output, StringComparison.Ordinal);

        await ours.StopAsync();
        Assert.Equal(0, ours.Process.ExitCode);
    }
}
