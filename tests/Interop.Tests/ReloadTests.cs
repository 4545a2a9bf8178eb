using static Calico.Bgp.Interop.Tests.ReloadConfigs;

namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// Reloads as Calico does them (rewrite the file, SIGHUP) against three BIRD 2 peers: an unchanged
/// peer is not touched (same session, no kernel route event), a peer whose filters changed is
/// re-evaluated without a reset, a peer whose password changed restarts, a broken config changes
/// nothing, and a burst of SIGHUPs is one reload.
/// </summary>
public class ReloadTests
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(40);

    private sealed record Node(TestLab Lab, LabHost Ours, OurDaemon Daemon, BirdPeer[] Birds);

    private static async Task<Node> StartAsync(TestLab lab)
    {
        var a = await lab.AddHostAsync("a");
        var peers = new List<LabHost>();
        for (var i = 2; i <= 4; i++)
            peers.Add(await lab.AddHostAsync($"p{i}"));
        await lab.ConnectToSwitchAsync("sw", [(a, "10.0.0.1/24"), .. peers.Select((p, i) => (p, $"10.0.0.{i + 2}/24"))]);
        var birds = new[]
        {
            await BirdPeer.StartBird2Async(peers[0], Bird2("10.0.0.2", null, "10.51.1.0/24")),
            await BirdPeer.StartBird2Async(peers[1], Bird2("10.0.0.3", null, "10.52.1.0/24", "10.52.2.0/24")),
            await BirdPeer.StartBird2Async(peers[2], Bird2("10.0.0.4", "secret-1", "10.53.1.0/24")),
        };
        var daemon = await OurDaemon.StartAsync(a, Ours(narrow3: false, password4: "secret-1"));
        var node = new Node(lab, a, daemon, birds);
        await Wait.UntilAsync(async () =>
            await daemon.IsEstablishedAsync(Peer2) && await daemon.IsEstablishedAsync(Peer3) && await daemon.IsEstablishedAsync(Peer4)
            && (await a.RoutesAsync()).Count(r => r.Protocol == "bird") == 6
            && (await birds[1].CommandAsync("show route")).Contains("10.60.2.0/24", StringComparison.Ordinal),
            Converge, "three sessions and six kernel routes", () => DescribeAsync(node));
        return node;
    }

    private static async Task<string> DescribeAsync(Node n) =>
        await n.Ours.RoutesTextAsync() + "\nours:\n" + await n.Daemon.CommandAsync("show protocols") + n.Lab.Diagnostics();

    private static int CountReconfigured(OurDaemon d) =>
        d.Process!.Output.Split('\n').Count(l => l.TrimEnd().EndsWith("Reconfigured", StringComparison.Ordinal));

    /// <summary>The daemon's log lines about reloads, for a failure message.</summary>
    private static string ReloadLog(OurDaemon d) =>
        string.Join('\n', d.Process!.Output.Split('\n').Where(l => l.Contains("Reconfigur", StringComparison.Ordinal)));

    [Fact]
    public async Task A_reload_touches_only_what_changed()
    {
        await using var lab = await TestLab.CreateAsync("reload");
        var n = await StartAsync(lab);
        var (ours, daemon, birds) = (n.Ours, n.Daemon, n.Birds);
        // `since` has a resolution of a second: a restart must show as a new value.
        await Task.Delay(1500);
        var protocols = await daemon.CommandAsync("show protocols");
        var (since2, since3, since4) = (ProtocolSince.Of(protocols, Peer2), ProtocolSince.Of(protocols, Peer3), ProtocolSince.Of(protocols, Peer4));
        var birdSince3 = ProtocolSince.Of(await birds[1].CommandAsync("show protocols"), "peer1");

        // Peer 4's new password goes on its side first; its session drops until ours follows.
        await File.WriteAllTextAsync(birds[2].ConfigPath, Bird2("10.0.0.4", "secret-2", "10.53.1.0/24"));
        await birds[2].CommandAsync("configure");
        var monitor = ours.Start("monitor", "ip", ["monitor", "route"]);
        await Task.Delay(300);
        var reloadsBefore = CountReconfigured(daemon);
        await daemon.ReloadAsync(Ours(narrow3: true, password4: "secret-2"));

        await Wait.UntilAsync(async () =>
        {
            var routes = await ours.RoutesAsync();
            return !routes.Any(r => r.Dst == "10.52.2.0/24")
                && !(await birds[1].CommandAsync("show route")).Contains("10.60.2.0/24", StringComparison.Ordinal)
                && await daemon.IsEstablishedAsync(Peer4) && routes.Any(r => r.Dst == "10.53.1.0/24");
        }, Converge, "peer 3 re-evaluated and peer 4 back", () => DescribeAsync(n));
        await Task.Delay(2500);
        await monitor.StopAsync();
        var events = monitor.Output;

        protocols = await daemon.CommandAsync("show protocols");
        // (a) unchanged: the same session, and not one kernel event for its route or our blackholes.
        Assert.Equal(since2, ProtocolSince.Of(protocols, Peer2));
        Assert.DoesNotContain("10.51.1.0/24", events, StringComparison.Ordinal);
        Assert.DoesNotContain("10.60.", events, StringComparison.Ordinal);
        // (b) filters changed: re-evaluated in place, the session kept on both sides.
        Assert.Equal(since3, ProtocolSince.Of(protocols, Peer3));
        ProtocolSince.AssertSameChange(birdSince3, ProtocolSince.Of(await birds[1].CommandAsync("show protocols"), "peer1"));
        var at3 = await birds[1].CommandAsync("show route");
        Assert.Contains("10.60.1.0/24", at3, StringComparison.Ordinal);
        Assert.DoesNotContain("10.60.2.0/24", at3, StringComparison.Ordinal);
        var kernel = await ours.RoutesAsync();
        Assert.Contains(kernel, r => r.Dst == "10.52.1.0/24" && r.Gateway == "10.0.0.3");
        Assert.Contains("10.52.2.0/24", events, StringComparison.Ordinal);
        // (c) password changed: restarted, and up again with the new one.
        Assert.NotEqual(since4, ProtocolSince.Of(protocols, Peer4));
        Assert.Contains("Established", await birds[2].CommandAsync("show protocols peer1"), StringComparison.Ordinal);
        Assert.Equal(reloadsBefore + 1, CountReconfigured(daemon));

        // (d) a broken config: everything keeps running; configure answers 8002 with file:line:col.
        protocols = await daemon.CommandAsync("show protocols");
        await daemon.ReloadAsync(Ours(narrow3: true, password4: "secret-2", extra: "protocol bgp Broken {\n  neighbor 10.0.0.9 as ;\n}\n"));
        await Wait.UntilAsync(() => daemon.Process!.Output.Contains("Reconfiguration failed", StringComparison.Ordinal), Converge, "the reload to be refused");
        var reply = await daemon.CommandAsync("configure");
        var location = System.Text.RegularExpressions.Regex.Match(reply, @"bird\.cfg:(\d+):(\d+)");
        Assert.True(location.Success, reply);
        Assert.Contains($"bird.cfg:{location.Groups[1].Value}:{location.Groups[2].Value}", daemon.Process!.Output, StringComparison.Ordinal);
        var after = await daemon.CommandAsync("show protocols");
        foreach (var p in new[] { Peer2, Peer3, Peer4 })
        {
            Assert.Equal(ProtocolSince.Of(protocols, p), ProtocolSince.Of(after, p));
            Assert.True(await daemon.IsEstablishedAsync(p), after);
        }
        Assert.DoesNotContain("Broken", after, StringComparison.Ordinal);
        Assert.Equal(reloadsBefore + 1, CountReconfigured(daemon));

        // (e) confd's burst: three files, three SIGHUPs, one reload of the final file.
        await File.WriteAllTextAsync(daemon.ConfigPath, Ours(narrow3: false, password4: "secret-2"));
        // One shell sends the burst, 50 ms apart: a test host's thread pool under CI's load once
        // stretched Task.Delay(50) past the daemon's 400 ms quiet time, and the burst became two.
        var pid = daemon.Process.Pid;
        (await Shell.RunAsync("sh", ["-c", $"kill -HUP {pid}; sleep 0.05; kill -HUP {pid}; sleep 0.05; kill -HUP {pid}"]))
            .ThrowIfFailed("the SIGHUP burst");
        await Wait.UntilAsync(() => CountReconfigured(daemon) > reloadsBefore + 1, Converge, "the burst's reload");
        await Task.Delay(3000);
        Assert.True(CountReconfigured(daemon) == reloadsBefore + 2, "three SIGHUPs 50 ms apart made more than one reload:\n" + ReloadLog(daemon));
        await Wait.UntilAsync(async () => (await birds[1].CommandAsync("show route")).Contains("10.60.2.0/24", StringComparison.Ordinal),
            Converge, "peer 3's wider export after the burst", () => DescribeAsync(n));
        Assert.Equal(since3, ProtocolSince.Of(await daemon.CommandAsync("show protocols"), Peer3));
    }
}
