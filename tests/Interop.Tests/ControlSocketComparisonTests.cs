using System.Text;

namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// Our control socket against BIRD 1.6's, in the same topology from the same config: every command
/// Calico and operators use, read raw and through BIRD 1.6's birdc and Debian's birdc/birdcl, must
/// read the same line by line once times, timers and ids are masked (ControlSocketMask) and the
/// differences owned elsewhere are applied (ControlSocketKnownDifferences).
/// </summary>
public class ControlSocketComparisonTests
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(60);

    /// <summary>Commands that change nothing, run through every access path.</summary>
    private static readonly string[] ReadOnly =
    [
        "show status",
        "show protocols",
        "show protocols all",
        $"show protocols all {ControlSocketNode.PeerB}",
        $"show protocols all {ControlSocketNode.PeerC}",
        "show protocols all kernel1",
        "show protocols all NoSuchProto",
        "show route",
        "show route all",
        "show route for 10.65.1.7",
        "show route for 10.65.2.5",
        "show route for 10.1.1.1",
        $"show route protocol {ControlSocketNode.PeerB}",
        $"show route export {ControlSocketNode.PeerB}",
        $"show route export {ControlSocketNode.PeerC}",
        "show route count",
        "show route primary",
        "show interfaces",
        "show interfaces summary",
        "configure check",
        "frobnicate",
        "sh pro",
    ];

    /// <summary>Commands that act, in an order whose replies do not depend on timing.</summary>
    private static readonly string[] Actions =
    [
        "configure",
        $"reload {ControlSocketNode.PeerB}",
        "reload kernel1",
        $"reload {ControlSocketNode.PeerC}",
        $"restart {ControlSocketNode.PeerC}",
        $"disable {ControlSocketNode.PeerB}",
        $"disable {ControlSocketNode.PeerB}",
        $"show protocols {ControlSocketNode.PeerB}",
        $"show protocols all {ControlSocketNode.PeerB}",
        $"enable {ControlSocketNode.PeerB}",
        $"enable {ControlSocketNode.PeerB}",
        "disable NoSuchProto",
    ];

    private static async Task<ControlSocketNode> ConvergedAsync(NodeADaemon daemon)
    {
        var node = await ControlSocketNode.CreateAsync(daemon, "ctlsock");
        try
        {
            await node.StartAAsync(ControlSocketNode.NodeAConfig(true, ControlSocketNode.PeerB, ControlSocketNode.PeerC));
            await WaitConvergedAsync(node);
            return node;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// B Established with its routes in A's table, the workload route learned, C refused, and the kernel
    /// protocol's three routes exported (it reads the table's changes after the table has them, so its
    /// count can lag the routes by a moment).
    /// </summary>
    private static Task WaitConvergedAsync(ControlSocketNode node) =>
        Wait.UntilAsync(async () =>
        {
            var routes = await node.RawAsync("show route");
            return (await node.InfoAsync(ControlSocketNode.PeerB)).StartsWith("Established", StringComparison.Ordinal)
                && (await node.InfoAsync(ControlSocketNode.PeerC)).Contains("Socket:", StringComparison.Ordinal)
                && routes.Contains("10.65.1.7/32", StringComparison.Ordinal)
                && routes.Contains("10.65.2.5/32", StringComparison.Ordinal)
                && (await node.RawAsync("show protocols all kernel1")).Contains(" 3 exported", StringComparison.Ordinal);
        }, Converge, $"node A ({node.Daemon}) to converge", node.DescribeAsync);

    private static async Task<string> ReplyAsync(ControlSocketNode node, ControlAccess access, string command)
    {
        var reply = await ControlSocketClient.RunAsync(access, node.Socket, command);
        // Every path prints the banner first: an empty or cut read would compare equal to another.
        Assert.Contains(" ready.", reply, StringComparison.Ordinal);
        return ControlSocketMask.Apply(reply, command, node.Lab.Dir);
    }

    /// <summary>Line-by-line differences, or nothing.</summary>
    private static string Compare(string what, string expected, string actual)
    {
        if (expected == actual)
            return "";
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        var sb = new StringBuilder($"---- {what}\n");
        for (var i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            var el = i < e.Length ? e[i] : "<none>";
            var al = i < a.Length ? a[i] : "<none>";
            if (el != al)
                sb.Append($"  line {i + 1}\n    BIRD 1.6: [{el}]\n    ours:     [{al}]\n");
        }
        return sb.ToString();
    }

    [Fact]
    public async Task Every_command_reads_as_bird16s_through_the_socket_and_every_client()
    {
        var started = await Task.WhenAll(ConvergedAsync(NodeADaemon.Bird16), ConvergedAsync(NodeADaemon.Ours));
        await using var bird = started[0];
        await using var ours = started[1];
        var differences = new StringBuilder();
        foreach (var access in Enum.GetValues<ControlAccess>())
        {
            foreach (var command in ReadOnly)
            {
                var expected = ControlSocketKnownDifferences.ExpectedOfOurs(await ReplyAsync(bird, access, command));
                differences.Append(Compare($"{access}: {command}", expected, await ReplyAsync(ours, access, command)));
            }
        }
        foreach (var access in Enum.GetValues<ControlAccess>())
        {
            foreach (var command in Actions)
            {
                var expected = ControlSocketKnownDifferences.ExpectedOfOurs(await ReplyAsync(bird, access, command));
                differences.Append(Compare($"{access}: {command}", expected, await ReplyAsync(ours, access, command)));
            }
            // Back to the converged state before the next client acts.
            await Task.WhenAll(WaitConvergedAsync(bird), WaitConvergedAsync(ours));
        }
        Assert.True(differences.Length == 0, differences.ToString());
    }

    [Fact]
    public async Task Show_symbols_lists_what_bird16_lists_but_the_constants_and_templates()
    {
        var started = await Task.WhenAll(ConvergedAsync(NodeADaemon.Bird16), ConvergedAsync(NodeADaemon.Ours));
        await using var bird = started[0];
        await using var ours = started[1];
        static HashSet<string> Symbols(string raw) =>
            [.. raw.Split('\n').Where(l => l.Contains('\t', StringComparison.Ordinal)).Select(l => l[(l.StartsWith(' ') ? 1 : 5)..])];
        var birds = Symbols(await bird.RawAsync("show symbols"));
        var ourSymbols = Symbols(await ours.RawAsync("show symbols"));
        Assert.Empty(ourSymbols.Except(birds));
        // Config does not keep templates, nor the iproute2 constants (ipp_*, ips_*, ipt_*, ipr_*) BIRD defines.
        Assert.All(birds.Except(ourSymbols), s => Assert.True(s.EndsWith("\tconstant", StringComparison.Ordinal) || s.EndsWith("\tprotocol template", StringComparison.Ordinal), s));
        Assert.Contains("calico_kernel_programming\tfilter", ourSymbols);
        Assert.Contains($"{ControlSocketNode.PeerB}\tprotocol", ourSymbols);
        Assert.Equal(
            ControlSocketMask.Apply(await bird.RawAsync("show symbols kernel1"), "show symbols", bird.Lab.Dir),
            ControlSocketMask.Apply(await ours.RawAsync("show symbols kernel1"), "show symbols", ours.Lab.Dir));
    }

    [Fact]
    public async Task The_banner_carries_our_version_and_nothing_else_differs_in_it()
    {
        await using var ours = await ControlSocketNode.CreateAsync(NodeADaemon.Ours, "ctlsock-banner", startB: false);
        await ours.StartAAsync(ControlSocketNode.NodeAConfig(false));
        var status = (await ours.RawAsync("show status")).Split('\n');
        var version = status[0]["0001 BIRD ".Length..^" ready.".Length];
        Assert.StartsWith("v0.3.3+birdv1.6.8", version, StringComparison.Ordinal);
        Assert.Contains("calico-bgp", version, StringComparison.Ordinal);
        Assert.Equal($"1000-BIRD {version}", status[1]);
        var birdcl = await ControlSocketClient.ClientAsync(ControlAccess.Bird2Birdcl, ours.Socket, "show status");
        Assert.StartsWith($"BIRD {version} ready.\nBIRD {version}\n", birdcl.StdOut, StringComparison.Ordinal);
    }
}
