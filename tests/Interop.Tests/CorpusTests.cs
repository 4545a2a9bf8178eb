using Xunit.Abstractions;

namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// Every config Calico's confd generates runs unchanged: each main file passes confd's check
/// (<c>bird -p -c FILE</c>, run as <c>bird</c> or <c>bird6</c>), and every distinct one starts in a
/// namespace and acts on what it declares.
/// </summary>
public sealed class CorpusTests : IDisposable
{
    // Generous: up to a dozen daemons start at once on a shared 2-core machine.
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(120);
    private readonly ITestOutputHelper _output;

    /// <summary>
    /// The JIT build has quick JIT off (its project file: a route burst runs before
    /// tiering catches up); a start-and-stop spends most of its CPU compiling optimised code it
    /// runs once. Quick JIT (and no PGO instrumentation) makes each start cost about a third and
    /// changes nothing the test looks at.
    /// </summary>
    private static readonly Dictionary<string, string> QuickStart = new(StringComparer.Ordinal)
    {
        ["DOTNET_TC_QuickJit"] = "1",
        ["DOTNET_TieredPGO"] = "0",
    };
    private readonly string _bin = Directory.CreateTempSubdirectory("calico-bgpd-names-").FullName;

    public CorpusTests(ITestOutputHelper output)
    {
        _output = output;
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
            var r = await Shell.RunAsync("env", ["DOTNET_TC_QuickJit=1", "DOTNET_TieredPGO=0", Program(f), "-p", "-c", Path.Combine(CorpusCases.Root, f)], TimeSpan.FromSeconds(60));
            if (!r.Ok)
                failures.Add($"{f}: exit {r.ExitCode}: {r.StdErr.Trim()} {r.StdOut.Trim()}");
        });
        Assert.Empty(failures);
    }

    /// <summary>
    /// Starts every distinct corpus config once (bounded parallelism, a namespace each) and checks
    /// that it is acted on: the daemon runs, lists exactly the configured protocols on the master
    /// table, BGP sessions wait as configured (Passive, else Active or Connect), every static route
    /// of the config is in <c>show route</c>, the log has no warning or error, and SIGTERM stops it
    /// with exit code 0.
    /// </summary>
    [Fact]
    public async Task Every_distinct_config_starts_and_acts_on_what_it_declares()
    {
        var groups = CorpusCases.DistinctConfigs();
        Assert.True(groups.Sum(g => g.Count) >= 400, $"only {groups.Sum(g => g.Count)} main files under {CorpusCases.Root}");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        // Each start is mostly the runtime's own start-up (CPU); a few more than the cores keeps them busy while others wait on sockets.
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(4, Environment.ProcessorCount * 3) };
        await Parallel.ForEachAsync(groups, parallel, async (group, _) =>
        {
            try
            {
                await StartAndCheckAsync(group[0]);
            }
            catch (Exception e)
            {
                failures.Add($"{group[0]} (stands for {group.Count} files): {e.Message}");
            }
        });
        _output.WriteLine($"{groups.Count} distinct configs of {groups.Sum(g => g.Count)} main files started in {clock.Elapsed.TotalSeconds:0} s");
        Assert.True(failures.IsEmpty, string.Join("\n\n", failures.Order(StringComparer.Ordinal)));
    }

    private async Task StartAndCheckAsync(string relative)
    {
        var expect = CorpusCases.Expect(relative);
        Assert.NotEmpty(expect.Protocols);
        await using var lab = await TestLab.CreateAsync("corpus");
        var host = await lab.AddHostAsync("node");
        // The addresses the sessions bind live on a veth, as the node's own interface would hold them;
        // a static route's gateway is made a neighbour (BIRD installs a via route only then).
        (await host.IpAsync("link", "add", "eth0", "type", "veth", "peer", "name", "eth1")).ThrowIfFailed("veth");
        (await host.IpAsync("link", "set", "eth1", "up")).ThrowIfFailed("eth1 up");
        (await host.IpAsync("link", "set", "eth0", "up")).ThrowIfFailed("eth0 up");
        var addresses = expect.BoundAddresses.Select(a => a.Contains(':', StringComparison.Ordinal) ? a + "/128" : a + "/32")
            .Concat(expect.StaticRoutes.Where(r => IsUnicast(r.Route.Gateway)).Select(r => OnLinkWith(r.Route.Gateway!)))
            .Distinct(StringComparer.Ordinal);
        foreach (var a in addresses)
            (await host.IpAsync(a.Contains(':', StringComparison.Ordinal) ? ["addr", "add", a, "dev", "eth0", "nodad"] : ["addr", "add", a, "dev", "eth0"])).ThrowIfFailed($"address {a}");
        var socket = Path.Combine(host.Dir, "bird.ctl");
        var daemon = host.Start(CorpusCases.IsIpv6(relative) ? "bird6" : "bird", Program(relative), ["-d", "-c", Path.Combine(CorpusCases.Root, relative), "-s", socket], QuickStart);

        string? problem = null;
        string status = "", protocols = "", routes = "";
        await Wait.UntilAsync(async () =>
        {
            if (daemon.HasExited)
                throw new InvalidOperationException($"exited with {daemon.ExitCode}:\n{daemon.Output}");
            if (!File.Exists(socket))
            {
                problem = "no control socket yet";
                return false;
            }
            string raw;
            try
            {
                raw = await ControlSocketClient.RawAsync(socket, "show status", "show protocols", "show route");
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or OperationCanceledException)
            {
                // The socket file exists from bind() until listen(): refused in between. A reply slower
                // than the client's read timeout (a loaded machine) is asked again until Settle runs out.
                problem = $"control socket: {e.Message}";
                return false;
            }
            var reply = ControlReply.Split(raw);
            (status, protocols, routes) = (reply[1], reply[2], reply[3]);
            problem = !status.Contains("Daemon is up and running", StringComparison.Ordinal) ? "not running yet"
                : CheckProtocols(expect, protocols) ?? CheckRoutes(expect, routes);
            return problem is null;
        }, Settle, "every protocol listed and settled, every static route shown", () => Task.FromResult($"{problem}\n{status}\n{protocols}\n{routes}\n{daemon.Output}"));

        daemon.Signal(Signals.Term);
        Assert.True(await daemon.WaitForExitAsync(TimeSpan.FromSeconds(30)), "did not exit on SIGTERM");
        var log = daemon.Output;
        Assert.True(daemon.ExitCode == 0, $"exit code {daemon.ExitCode}\n{log}");
        Assert.Contains(CorpusCases.IsIpv6(relative) ? "(IPv6," : "(IPv4,", log, StringComparison.Ordinal);
        // Nothing in the config may be skipped with a warning: every log line is informational.
        var complaints = log.Split('\n').Where(l => l.Contains(" warn:", StringComparison.Ordinal) || l.Contains(" fail:", StringComparison.Ordinal)
            || l.Contains(" crit:", StringComparison.Ordinal) || l.Contains("unsupported", StringComparison.OrdinalIgnoreCase)
            || l.Contains("ignor", StringComparison.OrdinalIgnoreCase) || l.Contains("Unhandled exception", StringComparison.Ordinal)).ToList();
        Assert.True(complaints.Count == 0, string.Join('\n', complaints));
    }

    /// <summary>
    /// A gateway that can be a neighbour. BIRD 1.6 refuses a static route via any other (a
    /// multicast ffee::1:1 in the reachable_by cases): "Static route destination … is invalid".
    /// </summary>
    private static bool IsUnicast(string? gateway) =>
        gateway is not null && System.Net.IPAddress.Parse(gateway) is var a && !a.IsIPv6Multicast
        && !(a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && a.GetAddressBytes()[0] >= 224);

    /// <summary>An on-link prefix of two addresses holding <paramref name="gateway"/> and its neighbour (a /31 or /127).</summary>
    private static string OnLinkWith(string gateway)
    {
        var bytes = System.Net.IPAddress.Parse(gateway).GetAddressBytes();
        bytes[^1] ^= 1;
        return $"{new System.Net.IPAddress(bytes)}/{(bytes.Length == 4 ? 31 : 127)}";
    }

    /// <summary>Null when <c>show protocols</c> lists exactly the expected protocols, in order, on the master table, settled as configured; else what is wrong.</summary>
    private static string? CheckProtocols(CorpusCases.RunExpectation expect, string show)
    {
        var rows = show.Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(c => c.Length >= 5 && c[0] != "name").ToList();
        var listed = rows.Select(r => new CorpusCases.Expected(r[0], r[1])).ToList();
        if (!listed.SequenceEqual(expect.Protocols))
            return $"listed [{string.Join(", ", listed)}], configured [{string.Join(", ", expect.Protocols)}]";
        foreach (var r in rows)
        {
            var info = string.Join(' ', r.Skip(5));
            if (r[2] != "master")
                return $"{r[0]} is on table {r[2]}, not master";
            var ok = r[1] != "BGP" ? r[3] == "up"
                : expect.PassiveBgp.Contains(r[0]) ? r[3] == "start" && info.StartsWith("Passive", StringComparison.Ordinal)
                : r[3] == "start" && (info.StartsWith("Active", StringComparison.Ordinal) || info.StartsWith("Connect", StringComparison.Ordinal));
            if (!ok)
                return $"{r[0]} ({r[1]}{(expect.PassiveBgp.Contains(r[0]) ? ", passive" : "")}) is {r[3]} {info}";
        }
        return null;
    }

    /// <summary>Null when every static route of the config is listed by its protocol with its kind; else the first missing one.</summary>
    private static string? CheckRoutes(CorpusCases.RunExpectation expect, string show)
    {
        var lines = show.Split('\n');
        var prefix = "";
        var byPrefix = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            if (line.Length == 0 || line.StartsWith("BIRD", StringComparison.Ordinal))
                continue;
            if (!char.IsWhiteSpace(line[0]))
                prefix = line.Split(' ', 2)[0];
            if (!byPrefix.TryGetValue(prefix, out var list))
                byPrefix[prefix] = list = [];
            list.Add(line);
        }
        foreach (var (protocol, route) in expect.StaticRoutes)
        {
            var kind = route.Gateway is null ? route.Kind : $"via {route.Gateway}";
            var found = byPrefix.TryGetValue(route.Prefix, out var rows)
                && rows.Any(l => l.Contains(kind, StringComparison.Ordinal) && l.Contains($"[{protocol} ", StringComparison.Ordinal));
            var wanted = route.Gateway is null || IsUnicast(route.Gateway);
            if (found != wanted)
                return $"static route {route.Prefix} {kind} of {protocol} is {(found ? "" : "not ")}in show route";
        }
        return null;
    }
}
