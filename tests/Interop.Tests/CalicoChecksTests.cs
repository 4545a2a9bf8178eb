namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// calico-node's own checks (ported in CalicoParsers: readiness, liveness, the status reporter,
/// calicoctl) run against our daemon and against BIRD 1.6 as node A in the same situations; every
/// verdict must be BIRD 1.6's.
/// </summary>
public class CalicoChecksTests
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(60);

    /// <summary>Everything Calico concludes from node A, with run-dependent values left out.</summary>
    private sealed record Verdicts(
        string? ReadyInsideWindow,
        string? ReadyOutsideWindow,
        bool Live,
        bool GracefulRestartInProgress,
        bool ReporterReady,
        string ReporterRouterId,
        string Peers,
        string PeerDetails,
        string CalicoctlRows,
        string RouteSources);

    private static async Task<Verdicts> CheckAsync(ControlSocketNode node)
    {
        // Readiness and calicoctl read "show protocols"; readiness asks "show status" only when it gets there.
        var protocols = await node.RawAsync("show protocols");
        var status = await node.RawAsync("show status");
        var birdcl = await ControlSocketClient.ClientAsync(ControlAccess.Bird2Birdcl, node.Socket, "show status");
        var reporter = CalicoParsers.ScanBirdStatus(status);
        var peers = CalicoParsers.ScanBirdPeers(protocols);
        // The status reporter asks "show protocols all NAME" for each peer on the same connection.
        var details = new List<string>();
        foreach (var p in peers)
        {
            var (state, neighbor) = CalicoParsers.ScanProtocolDetail(await node.RawAsync($"show protocols all {p.Name}"));
            details.Add($"{state}@{neighbor}");
        }
        var routes = CalicoParsers.ScanBirdRoutes(await node.RawAsync("show route"));
        return new Verdicts(
            CalicoParsers.ReadinessError(protocols, insideStartupWindow: true, () => status),
            CalicoParsers.ReadinessError(protocols, insideStartupWindow: false, () => status),
            CalicoParsers.Live(birdcl.ExitCode, birdcl.StdOut),
            CalicoParsers.GrInProgress(status),
            // The version is left out: Debian's BIRD 1.6.8 says "1.6.8", Calico's fork and we "v…" (see the banner test).
            reporter.Ready && reporter.ServerTime is not null && reporter.LastBoot is not null && reporter.LastReconfig is not null,
            reporter.RouterId ?? "",
            string.Join(";", peers.Select(p => $"{p.PeerIp} {p.State} {p.BgpState}")),
            string.Join(";", details),
            string.Join(";", CalicoParsers.CalicoctlRows(protocols).Select(r => $"{r[0]}|{r[1]}|{r[2]}|{r[4].Split(' ')[0]}")),
            string.Join(";", routes.Select(r => $"{r.Dest}<{r.From}{(r.Primary ? "*" : "")}").Order(StringComparer.Ordinal)));
    }

    /// <summary>Runs the same situation with BIRD 1.6 and with ours as node A, side by side.</summary>
    private static async Task<(Verdicts Bird, Verdicts Ours)> BothAsync(string name, Func<ControlSocketNode, Task> setUp, Func<ControlSocketNode, Task<bool>> settled)
    {
        async Task<Verdicts> RunAsync(NodeADaemon daemon)
        {
            await using var node = await ControlSocketNode.CreateAsync(daemon, name, startB: false);
            await setUp(node);
            await Wait.UntilAsync(() => settled(node), Converge, $"{name} to settle on {daemon}", node.DescribeAsync);
            return await CheckAsync(node);
        }
        var results = await Task.WhenAll(RunAsync(NodeADaemon.Bird16), RunAsync(NodeADaemon.Ours));
        return (results[0], results[1]);
    }

    private static async Task<bool> EstablishedAsync(ControlSocketNode node, string protocol) =>
        (await node.InfoAsync(protocol)).StartsWith("Established", StringComparison.Ordinal);

    private static async Task<bool> RefusedAsync(ControlSocketNode node, string protocol) =>
        (await node.InfoAsync(protocol)).Contains("Socket:", StringComparison.Ordinal);

    private static async Task<bool> RoutesInAsync(ControlSocketNode node, params string[] prefixes)
    {
        var routes = await node.RawAsync("show route");
        return prefixes.All(p => routes.Contains(p, StringComparison.Ordinal));
    }

    [Fact]
    public async Task All_peers_established_is_ready_and_live()
    {
        var (bird, ours) = await BothAsync("calico-all-up", async node =>
        {
            await node.StartAAsync(ControlSocketNode.NodeAConfig(true, ControlSocketNode.PeerB, ControlSocketNode.PeerC));
            await Task.WhenAll(node.StartPeerBAsync(), node.StartPeerCAsync());
        }, async node => await EstablishedAsync(node, ControlSocketNode.PeerB) && await EstablishedAsync(node, ControlSocketNode.PeerC)
            && await RoutesInAsync(node, "10.65.1.7/32", "10.65.3.9/32", "10.65.2.5/32"));
        Assert.Null(bird.ReadyInsideWindow);
        Assert.Null(bird.ReadyOutsideWindow);
        Assert.True(bird.Live);
        Assert.Equal(bird, ours);
    }

    [Fact]
    public async Task One_peer_down_is_not_ready_inside_the_startup_window_and_ready_after_it()
    {
        var (bird, ours) = await BothAsync("calico-one-down", async node =>
        {
            await node.StartAAsync(ControlSocketNode.NodeAConfig(true, ControlSocketNode.PeerB, ControlSocketNode.PeerC));
            await node.StartPeerBAsync();
        }, async node => await EstablishedAsync(node, ControlSocketNode.PeerB) && await RefusedAsync(node, ControlSocketNode.PeerC)
            && await RoutesInAsync(node, "10.65.1.7/32", "10.65.2.5/32"));
        Assert.Equal("BGP not established with 10.99.0.3", bird.ReadyInsideWindow);
        Assert.Null(bird.ReadyOutsideWindow);
        Assert.Equal(bird with { Peers = Cycling(bird.Peers), PeerDetails = Cycling(bird.PeerDetails), CalicoctlRows = Cycling(bird.CalicoctlRows) },
            ours with { Peers = Cycling(ours.Peers), PeerDetails = Cycling(ours.PeerDetails), CalicoctlRows = Cycling(ours.CalicoctlRows) });
    }

    [Fact]
    public async Task Graceful_restart_recovery_is_not_ready()
    {
        // Started with -R, graceful restart on the kernel protocol and the BGP template, and the only
        // peer not up yet: recovery waits for it, and show status carries the 0024 block.
        var (bird, ours) = await BothAsync("calico-gr", node =>
            node.StartAAsync(ControlSocketNode.NodeAConfig(true, ControlSocketNode.PeerB), recover: true),
            async node => await RefusedAsync(node, ControlSocketNode.PeerB) && (await node.RawAsync("show status")).Contains("0024-", StringComparison.Ordinal));
        Assert.True(bird.GracefulRestartInProgress);
        Assert.NotNull(bird.ReadyInsideWindow);
        Assert.True(bird.ReporterReady);
        Assert.Equal(bird with { Peers = Cycling(bird.Peers), PeerDetails = Cycling(bird.PeerDetails), CalicoctlRows = Cycling(bird.CalicoctlRows) },
            ours with { Peers = Cycling(ours.Peers), PeerDetails = Cycling(ours.PeerDetails), CalicoctlRows = Cycling(ours.CalicoctlRows) });
    }

    [Fact]
    public async Task Graceful_restart_is_seen_by_readiness_once_every_peer_is_established()
    {
        // Readiness reaches "show status" only when every peer is Established; during recovery that
        // must say "graceful restart in progress". Both daemons answer the check from the same reply shape.
        foreach (var daemon in new[] { NodeADaemon.Bird16, NodeADaemon.Ours })
        {
            await using var node = await ControlSocketNode.CreateAsync(daemon, "calico-gr-status", startB: false);
            await node.StartAAsync(ControlSocketNode.NodeAConfig(true, ControlSocketNode.PeerB), recover: true);
            await Wait.UntilAsync(async () => (await node.RawAsync("show status")).Contains("0024-", StringComparison.Ordinal),
                Converge, $"{daemon} to report recovery", node.DescribeAsync);
            var status = await node.RawAsync("show status");
            var allEstablished = "0001 BIRD v ready.\n2002-name     proto    table    state  since       info\n"
                + $"1002-{ControlSocketNode.PeerB} BGP      master   up     12:00:00    Established   \n0000 \n";
            Assert.Equal("graceful restart in progress", CalicoParsers.ReadinessError(allEstablished, insideStartupWindow: true, () => status));
            Assert.Contains("   Waiting for 1 protocols to recover", status, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task No_peers_is_ready()
    {
        var (bird, ours) = await BothAsync("calico-no-peers",
            node => node.StartAAsync(ControlSocketNode.NodeAConfig(true)),
            node => RoutesInAsync(node, "10.65.2.0/26", "10.65.2.5/32", "10.99.0.0/24"));
        Assert.Null(bird.ReadyInsideWindow);
        Assert.Null(bird.ReadyOutsideWindow);
        Assert.Equal("", bird.Peers);
        Assert.Equal(bird, ours);
    }

    /// <summary>A refused peer's BGP state cycles Active/Connect/Idle on either daemon: compare it as one word.</summary>
    private static string Cycling(string s) =>
        System.Text.RegularExpressions.Regex.Replace(s, @"\b(Active|Connect|Idle)\b", "<cycling>");
}
