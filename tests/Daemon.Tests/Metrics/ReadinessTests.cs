using Calico.Bgp.Cli.Health;
using Calico.Bgp.Daemon.Control;
using Calico.Bgp.Daemon.Health;
using Calico.Bgp.Daemon.Tests.Control;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Daemon.Tests.Metrics;

/// <summary>
/// calico-node's bird-ready rule, in the daemon (<c>/readyz</c>) and in <c>calico-bgpc health</c>
/// over a real control socket: the same verdicts.
/// </summary>
public class ReadinessTests
{
    private static readonly ReadinessPeer Up1 = new("10.0.0.1", "Established");
    private static readonly ReadinessPeer Up2 = new("10.0.0.2", "Established");
    private static readonly ReadinessPeer Down3 = new("10.0.0.3", "Active");

    [Fact]
    public void No_peers_is_ready()
    {
        Assert.True(ReadinessCheck.Decide([], withinStartupWindow: true, () => true).Healthy);
        Assert.True(BirdReadiness.Decide([], withinStartupWindow: true, gracefulRestart: true).Ready);
    }

    [Fact]
    public void Within_the_window_every_peer_must_be_established_and_no_graceful_restart_run()
    {
        var verdict = ReadinessCheck.Decide([Up1, Down3], withinStartupWindow: true, () => false);
        Assert.False(verdict.Healthy);
        Assert.Equal("BGP not established with 10.0.0.3", verdict.Reason);
        Assert.True(ReadinessCheck.Decide([Up1, Up2], withinStartupWindow: true, () => false).Healthy);
        var gr = ReadinessCheck.Decide([Up1, Up2], withinStartupWindow: true, () => true);
        Assert.False(gr.Healthy);
        Assert.Equal("graceful restart in progress", gr.Reason);
    }

    [Fact]
    public void After_the_window_one_established_peer_is_enough_and_graceful_restart_is_not_asked()
    {
        Assert.True(ReadinessCheck.Decide([Up1, Down3], withinStartupWindow: false, () => throw new InvalidOperationException("not asked")).Healthy);
        Assert.False(ReadinessCheck.Decide([Down3], withinStartupWindow: false, () => false).Healthy);
    }

    [Fact]
    public void Only_calico_named_bgp_rows_with_an_info_column_count()
    {
        var time = new ManualTime(ManualTime.At("10:00:00"));
        var table = new RoutingTable();
        var mesh = new FakeProtocol("Mesh_10_0_0_1", "BGP", table, time, 100);
        mesh.Set(ProtocolState.Up, "Established   ");
        var node = new FakeProtocol("Node_10_0_0_3", "BGP", table, time, 100);
        node.Set(ProtocolState.Start, "Active        Socket: Connection refused");
        var workload = new FakeProtocol("Local_Workload_10_0_0_9", "BGP", table, time, 100);
        workload.Set(ProtocolState.Start, "Active");
        var silent = new FakeProtocol("Global_10_0_0_4", "BGP", table, time, 100);
        silent.Set(ProtocolState.Down);
        var kernel = new FakeProtocol("Node_kernel", "Kernel", table, time, 10);
        kernel.Set(ProtocolState.Up);

        var peers = ReadinessCheck.CalicoPeers([mesh, node, workload, silent, kernel], ipv6: false);
        Assert.Equal([new ReadinessPeer("10.0.0.1", "Established"), new ReadinessPeer("10.0.0.3", "Active")], peers);
        var v6 = new FakeProtocol("Mesh_fd00__1", "BGP", table, time, 100);
        v6.Set(ProtocolState.Up, "Established");
        Assert.Equal([new ReadinessPeer("fd00::1", "Established")], ReadinessCheck.CalicoPeers([v6], ipv6: true));
    }

    [Fact]
    public void The_daemon_check_measures_the_window_from_the_start()
    {
        var time = new ManualTime(ManualTime.At("10:00:00"));
        var source = new FakeMetricsSource { StartedAt = time.Now };
        var up = new FakeProtocol("Mesh_10_0_0_1", "BGP", source.Table, time, 100);
        up.Set(ProtocolState.Up, "Established");
        var down = new FakeProtocol("Mesh_10_0_0_2", "BGP", source.Table, time, 100);
        down.Set(ProtocolState.Start, "Connect");
        source.ProtocolList.AddRange([up, down]);
        var check = new ReadinessCheck(source, time);
        time.Now = ManualTime.At("10:00:29");
        Assert.False(check.Evaluate(TimeSpan.FromSeconds(30)).Healthy);
        time.Now = ManualTime.At("10:00:31");
        Assert.True(check.Evaluate(TimeSpan.FromSeconds(30)).Healthy);
        Assert.False(check.Evaluate(TimeSpan.FromSeconds(300)).Healthy);
    }

    public static TheoryData<string, int, bool> Cases => new()
    {
        // Node A's topology: Mesh_10_99_0_1 and _3 Established, Node_10_99_0_50 Active; up 5 min 4 s.
        { "as is, 30 s window", 30, true },
        { "as is, 10 min window", 600, false },
        { "all established, 10 min window", 600, true },
        { "graceful restart, 10 min window", 600, false },
        { "graceful restart, 30 s window", 30, true },
        { "nothing established, 30 s window", 30, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Calico_bgpc_health_over_the_socket_agrees_with_the_daemon(string scenario, int threshold, bool ready)
    {
        await using var f = ServerFixture.Start();
        var peers = f.Backend.ProtocolList.Where(p => p.TypeName == "BGP").ToList();
        if (scenario.StartsWith("all established", StringComparison.Ordinal) || scenario.StartsWith("graceful", StringComparison.Ordinal))
            peers.ForEach(p => p.Set(ProtocolState.Up, "Established"));
        if (scenario.StartsWith("graceful", StringComparison.Ordinal))
            f.Backend.GracefulRecovery = new GracefulRecoveryStatus(1, 100, 240);
        if (scenario.StartsWith("nothing", StringComparison.Ordinal))
            peers.ForEach(p => p.Set(ProtocolState.Start, "Active"));

        var output = new StringWriter();
        var code = await Task.Run(() => HealthCommand.Run(["-s", f.SocketPath, "health", "--threshold-time", threshold.ToString(System.Globalization.CultureInfo.InvariantCulture)], "calico-bgpc", output, TextWriter.Null));
        Assert.True((code == 0) == ready, $"{scenario}: exit {code}, {output}");

        var source = new FakeMetricsSource { StartedAt = f.Backend.StartedAt, GracefulRecovery = f.Backend.GracefulRecovery };
        source.ProtocolList.AddRange(f.Backend.Protocols);
        var daemon = new ReadinessCheck(source, f.Time).Evaluate(TimeSpan.FromSeconds(threshold));
        Assert.Equal(ready, daemon.Healthy);
        Assert.Contains(daemon.Reason, output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Calico_bgpc_health_fails_when_the_socket_is_missing_and_rejects_bad_arguments()
    {
        var output = new StringWriter();
        Assert.Equal(1, HealthCommand.Run(["-s", "/nonexistent/bird.ctl", "health"], "calico-bgpc", output, TextWriter.Null));
        Assert.StartsWith("not ready: /nonexistent/bird.ctl", output.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, HealthCommand.Run(["health", "--threshold-time", "soon"], "calico-bgpc", TextWriter.Null, TextWriter.Null));
        Assert.True(HealthCommand.Matches(["-s", "/x", "health"]));
        Assert.False(HealthCommand.Matches(["show", "protocols"]));
    }

    [Fact]
    public void Unexpected_lines_fail_as_in_calico()
    {
        Assert.Throws<FormatException>(() => BirdReadiness.ParsePeers(["0001 BIRD ready.", "2002-name proto table state since info extra", "0000 "]));
        Assert.Throws<FormatException>(() => BirdReadiness.ParsePeers(["9001 syntax error"]));
        Assert.Throws<FormatException>(() => BirdReadiness.ParseStatus(["1000-BIRD v2", "8003 no"]));
        var (gr, age) = BirdReadiness.ParseStatus(["1000-BIRD v2.0.12", "1011-Router ID is 10.0.0.1", " Current server time is 2026-11-26 10:00:40.500", " Last reboot on 2026-11-26 10:00:00.250", "0024-Graceful restart recovery in progress", "0013 Daemon is up and running"]);
        Assert.True(gr);
        Assert.Equal(TimeSpan.FromMilliseconds(40250), age);
    }
}
