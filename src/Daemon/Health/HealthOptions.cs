namespace Calico.Bgp.Daemon.Health;

/// <summary>Knobs of the health endpoints.</summary>
public sealed record HealthOptions
{
    /// <summary>
    /// calico-node's <c>--threshold-time</c> (30 s): within this time after start every BGP peer
    /// must be Established to be ready; after it, one is enough. <c>/readyz?threshold-time=S</c>
    /// overrides it per probe.
    /// </summary>
    public TimeSpan StartupWindow { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long <c>/livez</c> waits for a read of the daemon's state.</summary>
    public TimeSpan LivenessDeadline { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How often the metrics server's own heartbeat ticks.</summary>
    public TimeSpan HeartbeatPeriod { get; init; } = TimeSpan.FromSeconds(1);
}
