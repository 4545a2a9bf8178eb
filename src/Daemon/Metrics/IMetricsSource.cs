using Calico.Bgp.Daemon.Control;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Daemon.Metrics;

/// <summary>
/// What the metrics collector and the health endpoints read from the running daemon. The host
/// implements it; everything is read at scrape or probe time, so the hot paths carry no metrics
/// code. Every member may be called from any thread, concurrently, and must not block for long.
/// </summary>
public interface IMetricsSource
{
    /// <summary>Protocols in configuration order.</summary>
    IReadOnlyList<Protocol> Protocols { get; }

    /// <summary>The routing table (BIRD's <c>master</c>).</summary>
    RoutingTable Table { get; }

    /// <summary>True for the IPv6 daemon (<c>bird6</c>): the <c>family</c> label of per-protocol prefix counts.</summary>
    bool Ipv6 { get; }

    /// <summary>When the daemon started: the reference of the readiness start-up window.</summary>
    DateTimeOffset StartedAt { get; }

    /// <summary>Configurations applied so far: 1 after start, +1 per reload that applied a new one.</summary>
    long ConfigGeneration { get; }

    /// <summary>The last reload attempt (SIGHUP or <c>configure</c>), or null when there was none.</summary>
    ReloadOutcome? LastReload { get; }

    /// <summary>Clients connected to the control socket now.</summary>
    int ControlClients { get; }

    /// <summary>Non-null while graceful-restart recovery after <c>-R</c> runs.</summary>
    GracefulRecoveryStatus? GracefulRecovery { get; }

    /// <summary>Whether the protocol is disabled (in the config or by <c>disable</c>).</summary>
    bool IsDisabled(Protocol protocol);

    /// <summary>Whether a BGP protocol still holds the graceful-restart recovery lock (waits for End-of-RIB).</summary>
    bool HoldsRecoveryLock(Protocol protocol);
}

/// <summary>How the last reload went and when it finished.</summary>
public sealed record ReloadOutcome(bool Ok, DateTimeOffset At);
