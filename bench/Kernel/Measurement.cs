namespace Calico.Bgp.KernelBench;

/// <summary>
/// One contender's times for one route shape in one run: install and removal of every route, wall
/// and CPU, and the install from the first route of ours appearing in the kernel to the last.
/// </summary>
public sealed record Measurement(string Shape, string Contender, int Routes, TimeSpan Install, TimeSpan Remove)
{
    /// <summary>CPU (user + system) of the contender's process during the install; its sendmsg work in the kernel included.</summary>
    public TimeSpan InstallCpu { get; init; }
    public TimeSpan RemoveCpu { get; init; }
    /// <summary>From the first complete route in the kernel to the last: start-up, config parse and feed before the first write left out.</summary>
    public TimeSpan FirstToLast { get; init; }

    public double InstallRate => Routes / Install.TotalSeconds;
    public double RemoveRate => Routes / Remove.TotalSeconds;

    /// <summary>The median of every figure over runs of one shape and contender (each figure on its own).</summary>
    public static Measurement Median(IReadOnlyList<Measurement> runs) => runs[0] with
    {
        Install = Median(runs, m => m.Install),
        Remove = Median(runs, m => m.Remove),
        InstallCpu = Median(runs, m => m.InstallCpu),
        RemoveCpu = Median(runs, m => m.RemoveCpu),
        FirstToLast = Median(runs, m => m.FirstToLast),
    };

    private static TimeSpan Median(IReadOnlyList<Measurement> runs, Func<Measurement, TimeSpan> f)
    {
        var sorted = runs.Select(f).Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}

/// <summary>A route shape of the run: one next hop, or N-way ECMP.</summary>
public sealed record Shape(string Name, int Paths)
{
    /// <summary>172.16.0.2 … the gateways, all on the node's connected 172.16.0.0/24.</summary>
    public IReadOnlyList<string> Gateways => [.. Enumerable.Range(2, Paths).Select(i => $"172.16.0.{i}")];

    /// <summary>The i-th /24 from 10.0.0.0 up (100k of them reach into 11.0.0.0/8), as text.</summary>
    public static string PrefixText(int i)
    {
        var b = PrefixBits(i);
        return $"{b >> 24}.{(b >> 16) & 0xFF}.{(b >> 8) & 0xFF}.0/24";
    }

    /// <summary>The i-th /24 as a number (10.0.0.0 + i·256).</summary>
    public static uint PrefixBits(int i) => 0x0A000000u + ((uint)i << 8);
}
