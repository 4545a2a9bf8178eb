namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// <c>show protocols all</c> of BGP protocols with an <c>import limit</c>, ours against BIRD 1.6's
/// in the control-socket topology: the <c>Import limit:</c> line with <c>[HIT]</c> once the limit
/// is reached, and its <c>Action:</c> line, placed as BIRD's proto_show_limit places them.
/// </summary>
public class ImportLimitControlSocketTests
{
    /// <summary>
    /// Node A's config with B limited to one route (it sends two: the limit is hit and, with warn,
    /// both are kept) and C to 100 with block (C is never up).
    /// </summary>
    private static string Config()
    {
        var config = ControlSocketNode.NodeAConfig(true, ControlSocketNode.PeerB, ControlSocketNode.PeerC);
        config = config.Replace("neighbor 10.99.0.1 as 64512;", "neighbor 10.99.0.1 as 64512;\n  import limit 1 action warn;", StringComparison.Ordinal);
        config = config.Replace("neighbor 10.99.0.3 as 64512;", "neighbor 10.99.0.3 as 64512;\n  import limit 100 action block;", StringComparison.Ordinal);
        Assert.Contains("import limit 1 action warn;", config, StringComparison.Ordinal);
        Assert.Contains("import limit 100 action block;", config, StringComparison.Ordinal);
        return config;
    }

    /// <summary>Node A's config with B limited to one route and action restart (B sends two: every session of B trips it).</summary>
    private static string RestartConfig()
    {
        var config = ControlSocketNode.NodeAConfig(true, ControlSocketNode.PeerB)
            .Replace("neighbor 10.99.0.1 as 64512;", "neighbor 10.99.0.1 as 64512;\n  import limit 1 action restart;", StringComparison.Ordinal);
        Assert.Contains("import limit 1 action restart;", config, StringComparison.Ordinal);
        return config;
    }

    private const string RouteLimitExceeded = "Automatic shutdown: Route limit exceeded";

    /// <summary>
    /// Samples B's info column until it shows the limit's automatic shutdown; every sample taken
    /// is returned, so a test can check what was shown on the way.
    /// </summary>
    private static async Task<List<string>> InfoUntilLimitShownAsync(ControlSocketNode node)
    {
        var samples = new List<string>();
        await Wait.UntilAsync(async () =>
        {
            samples.Add(await node.InfoAsync(ControlSocketNode.PeerB));
            return samples[^1].EndsWith(RouteLimitExceeded, StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(60), $"node A ({node.Daemon}) to show the route limit's shutdown of B", node.DescribeAsync);
        return samples;
    }

    private static async Task<ControlSocketNode> StartedAsync(NodeADaemon daemon)
    {
        var node = await ControlSocketNode.CreateAsync(daemon, "implimit");
        try
        {
            await node.StartAAsync(Config());
            // Both of B's routes in (warn keeps importing), C refused.
            await Wait.UntilAsync(async () =>
            {
                var b = await node.RawAsync($"show protocols all {ControlSocketNode.PeerB}");
                return b.Contains("2 imported", StringComparison.Ordinal)
                    && (await node.InfoAsync(ControlSocketNode.PeerC)).Contains("Socket:", StringComparison.Ordinal);
            }, TimeSpan.FromSeconds(60), $"node A ({daemon}) to import B's routes", node.DescribeAsync);
            return node;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    private static async Task<string> ShowAsync(ControlSocketNode node, string protocol)
    {
        var command = $"show protocols all {protocol}";
        return ControlSocketMask.Apply(await node.RawAsync(command), command, node.Lab.Dir);
    }

    [Fact]
    public async Task Import_limit_lines_read_as_bird16s_hit_or_not_and_when_down()
    {
        var started = await Task.WhenAll(StartedAsync(NodeADaemon.Bird16), StartedAsync(NodeADaemon.Ours));
        await using var bird = started[0];
        await using var ours = started[1];

        var birdB = await ShowAsync(bird, ControlSocketNode.PeerB);
        Assert.Contains("\n   Import limit:   1 [HIT]\n     Action:       warn\n", birdB, StringComparison.Ordinal);
        Assert.Equal(birdB, await ShowAsync(ours, ControlSocketNode.PeerB));

        var birdC = await ShowAsync(bird, ControlSocketNode.PeerC);
        Assert.Contains("\n   Import limit:   100\n     Action:       block\n", birdC, StringComparison.Ordinal);
        Assert.Equal(birdC, await ShowAsync(ours, ControlSocketNode.PeerC));

        // Down: the limit is still shown, the route statistics are not.
        foreach (var node in started)
        {
            var reply = await node.RawAsync($"disable {ControlSocketNode.PeerB}");
            Assert.Contains($"0009-{ControlSocketNode.PeerB}: disabled", reply, StringComparison.Ordinal);
        }
        await Task.WhenAll(started.Select(n => Wait.UntilAsync(async () => (await n.RawAsync($"show protocols {ControlSocketNode.PeerB}")).Contains(" down ", StringComparison.Ordinal),
            TimeSpan.FromSeconds(20), $"{n.Daemon}: {ControlSocketNode.PeerB} down")));
        var birdDown = await ShowAsync(bird, ControlSocketNode.PeerB);
        Assert.Contains("Import limit:", birdDown, StringComparison.Ordinal);
        Assert.Equal(birdDown, await ShowAsync(ours, ControlSocketNode.PeerB));
    }

    /// <summary>
    /// <c>import limit … action restart</c>: BIRD 1.6's bgp_shutdown stores the automatic shutdown
    /// for restart as for disable, and keeps it while the protocol starts again. Ours shows the
    /// same error, in the info column and as <c>Last error:</c>, and neither shows the Cease's text.
    /// </summary>
    [Fact]
    public async Task Restart_shows_birds_automatic_shutdown_not_the_cease()
    {
        var nodes = await Task.WhenAll(RestartNodeAsync(NodeADaemon.Bird16), RestartNodeAsync(NodeADaemon.Ours));
        await using var bird = nodes[0];
        await using var ours = nodes[1];
        var shown = await Task.WhenAll(InfoUntilLimitShownAsync(bird), InfoUntilLimitShownAsync(ours));
        foreach (var samples in shown)
            Assert.DoesNotContain(samples, i => i.Contains("Maximum number of prefixes", StringComparison.Ordinal));
        foreach (var node in nodes)
        {
            await Wait.UntilAsync(async () => (await node.RawAsync($"show protocols all {ControlSocketNode.PeerB}")).Contains($"Last error:       {RouteLimitExceeded}\n", StringComparison.Ordinal),
                TimeSpan.FromSeconds(60), $"{node.Daemon}: the limit's shutdown as B's last error", node.DescribeAsync);
        }
    }

    private static async Task<ControlSocketNode> RestartNodeAsync(NodeADaemon daemon)
    {
        var node = await ControlSocketNode.CreateAsync(daemon, "limrestart");
        try
        {
            await node.StartAAsync(RestartConfig());
            return node;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }
}
