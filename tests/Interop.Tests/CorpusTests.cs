using Calico.Bgp.Lab;

namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// Every config Calico's confd generates runs unchanged: each main file passes confd's check
/// (<c>bird -p -c FILE</c>, run as <c>bird</c> or <c>bird6</c>), and a varied sample starts in a
/// namespace, lists every configured protocol in <c>show protocols</c> with none in error (BGP
/// sessions without a reachable peer wait in Active, Connect or Passive), and stops cleanly on SIGTERM.
/// </summary>
public sealed class CorpusTests : IDisposable
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(20);
    private readonly string _bin = Directory.CreateTempSubdirectory("calico-bgpd-names-").FullName;

    public CorpusTests()
    {
        // As in calico-node's image: the same binary as /bin/bird and /bin/bird6.
        File.CreateSymbolicLink(Path.Combine(_bin, "bird"), LabTools.Daemon);
        File.CreateSymbolicLink(Path.Combine(_bin, "bird6"), LabTools.Daemon);
    }

    public void Dispose() => Directory.Delete(_bin, recursive: true);

    private string Program(string relative) => Path.Combine(_bin, CorpusCases.IsIpv6(relative) ? "bird6" : "bird");

    [Fact]
    public async Task Every_main_file_passes_confds_check()
    {
        var files = CorpusCases.MainFiles();
        Assert.True(files.Count >= 400, $"only {files.Count} main files under {CorpusCases.Root}");
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(2, Environment.ProcessorCount * 2) }, async (f, _) =>
        {
            var r = await Shell.RunAsync(Program(f), ["-p", "-c", Path.Combine(CorpusCases.Root, f)], TimeSpan.FromSeconds(60));
            if (!r.Ok)
                failures.Add($"{f}: exit {r.ExitCode}: {r.StdErr.Trim()} {r.StdOut.Trim()}");
        });
        Assert.Empty(failures);
    }

    [Theory]
    [MemberData(nameof(Sample))]
    public async Task A_sampled_config_starts_lists_its_protocols_and_stops_cleanly(string relative)
    {
        var expected = CorpusCases.Protocols(relative);
        Assert.NotEmpty(expected);
        await using var lab = await TestLab.CreateAsync("corpus");
        var host = await lab.AddHostAsync("node");
        // The addresses the sessions bind live on a veth, as the node's own interface would hold them.
        (await host.IpAsync("link", "add", "eth0", "type", "veth", "peer", "name", "eth1")).ThrowIfFailed("veth");
        (await host.IpAsync("link", "set", "eth1", "up")).ThrowIfFailed("eth1 up");
        (await host.IpAsync("link", "set", "eth0", "up")).ThrowIfFailed("eth0 up");
        foreach (var a in CorpusCases.BoundAddresses(relative))
        {
            var args = a.Contains(':', StringComparison.Ordinal) ? new[] { "addr", "add", a + "/128", "dev", "eth0", "nodad" } : ["addr", "add", a + "/32", "dev", "eth0"];
            (await host.IpAsync(args)).ThrowIfFailed($"address {a}");
        }
        var socket = Path.Combine(host.Dir, "bird.ctl");
        var daemon = host.Start(CorpusCases.IsIpv6(relative) ? "bird6" : "bird", Program(relative), ["-d", "-c", Path.Combine(CorpusCases.Root, relative), "-s", socket]);

        async Task<string> Show() => (await Shell.RunAsync(LabTools.Bird2Client, ["-s", socket, "show", "protocols"])).StdOut;
        string? problem = null;
        await Wait.UntilAsync(async () =>
        {
            if (daemon.HasExited)
                throw new InvalidOperationException($"{relative}: exited with {daemon.ExitCode}:\n{daemon.Output}");
            problem = File.Exists(socket) ? Check(expected, await Show()) : "no control socket yet";
            return problem is null;
        }, Settle, $"{relative}: every protocol listed and settled", async () => $"{problem}\n{await Show()}\n{daemon.Output}");

        Assert.Contains(CorpusCases.IsIpv6(relative) ? "IPv6" : "IPv4", daemon.Output, StringComparison.Ordinal);
        daemon.Signal(Signals.Term);
        Assert.True(await daemon.WaitForExitAsync(TimeSpan.FromSeconds(15)), $"{relative}: did not exit on SIGTERM");
        Assert.True(daemon.ExitCode == 0, $"{relative}: exit code {daemon.ExitCode}\n{daemon.Output}");
        Assert.DoesNotContain("Unhandled exception", daemon.Output, StringComparison.Ordinal);
    }

    public static TheoryData<string> Sample() => CorpusCases.Sample();

    /// <summary>Null when <c>show protocols</c> lists exactly the expected protocols, in order, none in error; else what is wrong.</summary>
    private static string? Check(IReadOnlyList<CorpusCases.Expected> expected, string show)
    {
        var rows = show.Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(c => c.Length >= 5 && c[0] != "name" && c[0] != "BIRD").ToList();
        var listed = rows.Select(r => new CorpusCases.Expected(r[0], r[1])).ToList();
        if (!listed.SequenceEqual(expected))
            return $"listed [{string.Join(", ", listed)}], configured [{string.Join(", ", expected)}]";
        foreach (var r in rows)
        {
            var info = string.Join(' ', r.Skip(5));
            var ok = r[1] == "BGP"
                ? r[3] == "start" && (info.StartsWith("Active", StringComparison.Ordinal) || info.StartsWith("Connect", StringComparison.Ordinal) || info.StartsWith("Passive", StringComparison.Ordinal))
                : r[3] == "up";
            if (!ok)
                return $"{r[0]} ({r[1]}) is {r[3]} {info}";
        }
        return null;
    }
}
