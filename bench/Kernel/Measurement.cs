namespace Calico.Bgp.KernelBench;

/// <summary>One contender's times for one route shape: install and removal of every route.</summary>
public sealed record Measurement(string Shape, string Contender, int Routes, TimeSpan Install, TimeSpan Remove)
{
    public double InstallRate => Routes / Install.TotalSeconds;
    public double RemoveRate => Routes / Remove.TotalSeconds;
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
