using Calico.Bgp.Daemon.Control;
using Calico.Bgp.Daemon.Metrics;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Daemon.Hosting;

/// <summary>What the Prometheus collector and the health endpoints read, at scrape time.</summary>
internal sealed partial class RoutingDaemon
{
    bool IMetricsSource.Ipv6 => _cl.Ipv6;

    public long ConfigGeneration => Interlocked.Read(ref _configGeneration);

    /// <summary>The last applied (not check-only) reload, from SIGHUP or <c>configure</c>.</summary>
    public ReloadOutcome? LastReload { get; private set; }

    public int ControlClients => _control?.SessionCount ?? 0;

    GracefulRecoveryStatus? IMetricsSource.GracefulRecovery => GracefulRecoveryStatus;

}
