namespace Calico.Bgp.Daemon.Logging;

/// <summary>How many times one message may repeat before it is summarised.</summary>
public sealed record RepeatLimitOptions
{
    /// <summary>Messages of one template from one category written per <see cref="Interval"/>; the rest are counted.</summary>
    public int Burst { get; init; } = 10;

    /// <summary>The window the burst applies to; at its end one summary line reports what was held back.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(10);
}
