using Calico.Bgp.Lab;
using Calico.Bgp.LoadGen.Orchestration;

namespace Calico.Bgp.LoadGen;

/// <summary>The driver's command line; <c>--quick</c> picks one run and smaller sizes.</summary>
public sealed record BenchOptions
{
    public const string Usage = """
        usage: calico-loadgen [--quick] [--runs N] [--scenarios self,P1,P2,P3,P4,P6] [--daemons ours,bird2,bird16,gobgp,frr]
                              [--p1 N] [--p1v6 N] [--p2 K,K] [--p3 N] [--p4 R,R] [--p4-seconds S] [--p4-trace DIR]
                              [--p6 PEERS] [--p6-seconds S] [--gateway direct|recursive] [--dut-unpinned] [--out FILE.md]
        """;

    public bool Quick { get; init; }
    public int Runs { get; init; } = 3;
    public IReadOnlySet<string> ScenarioSet { get; init; } = new HashSet<string>(["self", "P1", "P2", "P3", "P4", "P6"], StringComparer.OrdinalIgnoreCase);
    public IReadOnlyList<DutKind> Daemons { get; init; } = [DutKind.Ours, DutKind.Bird2, DutKind.Bird16, DutKind.Gobgp, DutKind.Frr];
    public int P1Count { get; init; } = 1_000_000;
    public int P1V6Count { get; init; } = 200_000;
    public IReadOnlyList<int> P2Clients { get; init; } = [100, 500, 1000];
    public int P3Nodes { get; init; } = 200;
    public IReadOnlyList<int> P4Rates { get; init; } = [100, 1000, 5000];
    public int P4Seconds { get; init; } = 60;
    public int P4Monitors { get; init; } = 10;
    /// <summary>Where P4 writes each run's per-prefix latencies (one CSV per run), or null.</summary>
    public string? P4TraceDir { get; init; }
    public int P6Peers { get; init; } = 500;
    public int P6Interfaces { get; init; } = 250;
    public int P6Routes { get; init; } = 10_000;
    public int P6Seconds { get; init; } = 300;
    /// <summary>Cap per run; GoBGP is known to take very long at P1 and is reported as not finished.</summary>
    public int TimeoutSeconds { get; init; } = 300;
    /// <summary>
    /// <c>gateway recursive</c> (Calico's templates) instead of <c>direct</c> on the DUT's sessions, with a
    /// direct protocol for the next hops to resolve through; BIRD and ours only (GoBGP and FRR resolve as they always do).
    /// </summary>
    public bool GatewayRecursive { get; init; }
    /// <summary>
    /// The DUT may run on every core instead of core 1 alone (the generator and monitors stay on core 0).
    /// The issue pins the DUT only "where the scenario says so"; a daemon that works on more than one
    /// thread then shows what it does with the second core, a single-threaded one runs as pinned.
    /// </summary>
    public bool DutUnpinned { get; init; }
    public string Output { get; init; } = Path.Combine(LabTools.RepoRoot, "bench", "RESULTS.md");

    public bool Has(string scenario) => ScenarioSet.Contains(scenario);

    public static bool TryParse(string[] args, out BenchOptions options, out string? error)
    {
        options = new BenchOptions();
        error = null;
        if (args.Contains("--quick"))
        {
            options = options with { Quick = true, Runs = 1, P1Count = 200_000, P1V6Count = 50_000, P2Clients = [100, 500], P4Rates = [100, 1000, 5000], P4Seconds = 10, P6Seconds = 60, TimeoutSeconds = 120 };
        }
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            static int[] Ints(string s) => [.. s.Split(',').Select(x => int.Parse(x, System.Globalization.CultureInfo.InvariantCulture))];
            try
            {
                options = args[i] switch
                {
                    "--quick" => options,
                    "--runs" => options with { Runs = Ints(Next())[0] },
                    "--scenarios" => options with { ScenarioSet = new HashSet<string>(Next().Split(','), StringComparer.OrdinalIgnoreCase) },
                    "--daemons" => options with { Daemons = [.. Next().Split(',').Select(d => Enum.Parse<DutKind>(d, ignoreCase: true))] },
                    "--p1" => options with { P1Count = Ints(Next())[0] },
                    "--p1v6" => options with { P1V6Count = Ints(Next())[0] },
                    "--p2" => options with { P2Clients = Ints(Next()) },
                    "--p3" => options with { P3Nodes = Ints(Next())[0] },
                    "--p4" => options with { P4Rates = Ints(Next()) },
                    "--p4-seconds" => options with { P4Seconds = Ints(Next())[0] },
                    "--p4-trace" => options with { P4TraceDir = Path.GetFullPath(Next()) },
                    "--p6" => options with { P6Peers = Ints(Next())[0] },
                    "--p6-seconds" => options with { P6Seconds = Ints(Next())[0] },
                    "--timeout" => options with { TimeoutSeconds = Ints(Next())[0] },
                    "--gateway" => Next() switch
                    {
                        "direct" => options with { GatewayRecursive = false },
                        "recursive" => options with { GatewayRecursive = true },
                        var g => throw new FormatException($"--gateway takes direct or recursive, not '{g}'"),
                    },
                    "--dut-unpinned" => options with { DutUnpinned = true },
                    "--out" => options with { Output = Path.GetFullPath(Next()) },
                    _ => throw new ArgumentException($"unknown option {args[i]}"),
                };
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                error = e.Message;
                return false;
            }
        }
        return true;
    }
}
