using System.Text.RegularExpressions;

namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// BIRD 1.x is single-family: <c>bird</c> rejects every IPv6 literal (its lexer's "This is an IPv4
/// router" error), while <c>bird6</c> reads a dotted quad as a router-id token, so it fails only
/// where the grammar wants an address or prefix (a neighbor, a static route, a prefix set) and lets
/// <c>10.0.0.0/8</c> in a filter through as quad / int. Every corpus main file run as the other
/// family must fail (or pass) exactly as BIRD 1.6 does, at the same file, line and column, with a
/// message naming the address of the wrong family.
/// </summary>
public sealed partial class CorpusFamilyTests : IDisposable
{
    private readonly string _bin = Directory.CreateTempSubdirectory("calico-bgpd-family-").FullName;

    public CorpusFamilyTests()
    {
        File.CreateSymbolicLink(Path.Combine(_bin, "bird"), LabTools.Daemon);
        File.CreateSymbolicLink(Path.Combine(_bin, "bird6"), LabTools.Daemon);
    }

    public void Dispose() => Directory.Delete(_bin, recursive: true);

    // BIRD 1.6: "bird: FILE:LINE:COL message"; ours: "FILE:LINE:COL: message".
    [GeneratedRegex(@"^bird: (\S+:\d+:\d+) (.*)$", RegexOptions.Multiline)]
    private static partial Regex Bird16Error();

    [GeneratedRegex(@"^(\S+:\d+:\d+): (.*)$", RegexOptions.Multiline)]
    private static partial Regex OurError();

    [GeneratedRegex(@"found IPv[46] address '[0-9A-Fa-f:.]+'")]
    private static partial Regex WrongFamily();

    [GeneratedRegex(@"(?<![\w:])[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:]*:[0-9A-Fa-f]{0,4}(?![\w:])")]
    private static partial Regex Ipv6Literal();

    [GeneratedRegex(@"\bneighbor\s+\d+\.\d+\.\d+\.\d+")]
    private static partial Regex Ipv4Neighbor();

    [Fact]
    public async Task Every_main_file_run_as_the_other_family_fails_where_bird16_fails()
    {
        var groups = CorpusCases.DistinctConfigs();
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var (v6AsBird, v4AsBird6) = (0, 0);
        await Parallel.ForEachAsync(groups, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(2, Environment.ProcessorCount * 2) }, async (group, _) =>
        {
            var relative = group[0];
            var file = Path.Combine(CorpusCases.Root, relative);
            // The other family's program.
            var program = CorpusCases.IsIpv6(relative) ? "bird" : "bird6";
            var theirs = await Shell.RunAsync(Path.Combine(LabTools.Bird16Dir, "usr/sbin", program), ["-p", "-c", file], TimeSpan.FromSeconds(60));
            // Quick JIT: a parse-and-exit runs each method once (see CorpusTests.QuickStart).
            var ours = await Shell.RunAsync("env", ["DOTNET_TC_QuickJit=1", "DOTNET_TieredPGO=0", Path.Combine(_bin, program), "-p", "-c", file], TimeSpan.FromSeconds(60));
            var text = CorpusCases.ExpandedText(relative);
            var what = $"{relative} as {program}: BIRD 1.6 exit {theirs.ExitCode} '{theirs.StdErr.Trim()}', ours exit {ours.ExitCode} '{ours.StdErr.Trim()}{ours.StdOut.Trim()}'";
            if (theirs.ExitCode != ours.ExitCode)
            {
                failures.Add(what);
                return;
            }
            // What the issue promises, independently of BIRD 1.6's verdict.
            var mustFail = program == "bird" ? Ipv6Literal().IsMatch(text) : Ipv4Neighbor().IsMatch(text);
            if (mustFail)
                Interlocked.Increment(ref program == "bird" ? ref v6AsBird : ref v4AsBird6);
            if (mustFail && ours.Ok)
                failures.Add($"{what}: should fail, it has addresses of the other family");
            if (ours.Ok)
                return;
            var at = Bird16Error().Match(theirs.StdErr);
            var ourAt = OurError().Match(ours.StdErr + ours.StdOut);
            if (!at.Success || !ourAt.Success || at.Groups[1].Value != ourAt.Groups[1].Value)
                failures.Add($"{what}: not at the same place");
            else if (!WrongFamily().IsMatch(ourAt.Groups[2].Value))
                failures.Add($"{what}: the message does not name the wrong-family address");
        });
        Assert.True(failures.IsEmpty, string.Join('\n', failures.Order(StringComparer.Ordinal)));
        // The corpus has both kinds: bird6.cfg files with IPv6 addresses and bird.cfg files with IPv4 neighbors.
        Assert.True(v6AsBird > 50 && v4AsBird6 > 50, $"{v6AsBird} IPv6 configs run as bird, {v4AsBird6} IPv4 configs with neighbors run as bird6");
    }
}
