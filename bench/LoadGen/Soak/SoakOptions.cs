using System.Globalization;
using Calico.Bgp.Lab;

namespace Calico.Bgp.LoadGen.Soak;

/// <summary>
/// <c>calico-loadgen soak …</c>: 30 minutes by default, fitted after 5 minutes of warm-up;
/// <c>--quick</c> is 2 minutes fitted after 30 s, written outside the repository.
/// </summary>
public sealed record SoakOptions
{
    public const string Usage = """
        usage: calico-loadgen soak [--quick] [--minutes M] [--warmup-minutes W] [--clients K] [--rate R]
                                   [--interval S] [--out FILE.md]
        """;

    public bool Quick { get; init; }
    public double Minutes { get; init; } = 30;
    public double WarmupMinutes { get; init; } = 5;
    public int Clients { get; init; } = 500;
    /// <summary>Workload /32s announced per second (each withdrawn a second later).</summary>
    public int Rate { get; init; } = 500;
    public int IntervalSeconds { get; init; } = 10;
    public string Output { get; init; } = Path.Combine(LabTools.RepoRoot, "bench", "RESULTS-soak.md");

    public int ChurnSeconds => (int)Math.Round(Minutes * 60);

    public static bool TryParse(string[] args, out SoakOptions options, out string? error)
    {
        options = new SoakOptions();
        error = null;
        if (args.Contains("--quick"))
            options = options with { Quick = true, Minutes = 2, WarmupMinutes = 0.5, Output = Path.Combine(Path.GetTempPath(), "calico-soak-quick", "RESULTS-soak.md") };
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            double Number() => double.Parse(Next(), CultureInfo.InvariantCulture);
            try
            {
                options = args[i] switch
                {
                    "--quick" => options,
                    "--minutes" => options with { Minutes = Number() },
                    "--warmup-minutes" => options with { WarmupMinutes = Number() },
                    "--clients" => options with { Clients = (int)Number() },
                    "--rate" => options with { Rate = (int)Number() },
                    "--interval" => options with { IntervalSeconds = (int)Number() },
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
        if (options.WarmupMinutes >= options.Minutes)
        {
            error = "the warm-up must be shorter than the soak";
            return false;
        }
        return true;
    }
}
