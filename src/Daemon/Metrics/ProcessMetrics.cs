using Calico.Bgp.Daemon.Hosting;

namespace Calico.Bgp.Daemon.Metrics;

/// <summary>Daemon-wide metrics: build, configuration reloads, control socket, graceful-restart recovery.</summary>
internal sealed class ProcessMetrics
{
    private readonly ScrapedGauge _buildInfo;
    private readonly ScrapedGauge _startTime;
    private readonly ScrapedGauge _generation;
    private readonly ScrapedGauge _lastLoadOk;
    private readonly ScrapedGauge _lastLoadTime;
    private readonly ScrapedGauge _controlClients;
    private readonly ScrapedGauge _recoveryActive;
    private readonly ScrapedGauge _recoveryWaiting;
    private readonly ScrapedGauge _recoveryRemaining;

    public ProcessMetrics(MetricGroup g)
    {
        _buildInfo = g.Gauge("calico_bgp_build_info", "Always 1: the daemon's version and the BIRD version it reports.", "version", "bird_version");
        _startTime = g.Gauge("calico_bgp_start_time_seconds", "When the daemon started (Unix time).");
        _generation = g.Gauge("calico_bgp_config_generation", "Configurations applied: 1 after start, +1 per reload that applied one.");
        _lastLoadOk = g.Gauge("calico_bgp_config_last_reload_successful", "1 when the last reload (SIGHUP or configure) succeeded, or none was tried; 0 when it failed and the old config runs.");
        _lastLoadTime = g.Gauge("calico_bgp_config_last_reload_timestamp_seconds", "When the last reload finished (Unix time); the start time before the first.");
        _controlClients = g.Gauge("calico_bgp_control_clients", "Clients connected to the control socket.");
        _recoveryActive = g.Gauge("calico_bgp_graceful_recovery_active", "1 while graceful-restart recovery after bird -R runs (show status reports 0024).");
        _recoveryWaiting = g.Gauge("calico_bgp_graceful_recovery_waiting_protocols", "Protocols recovery still waits for.");
        _recoveryRemaining = g.Gauge("calico_bgp_graceful_recovery_remaining_seconds", "Seconds left on the recovery wait timer.");
    }

    public void Collect(IMetricsSource source)
    {
        _buildInfo.Set(1, BuildInfo.Version, BuildInfo.BirdCompatibleVersion);
        _startTime.Set(UnixSeconds(source.StartedAt));
        _generation.Set(source.ConfigGeneration);
        var reload = source.LastReload;
        _lastLoadOk.Set(reload is null || reload.Ok ? 1 : 0);
        _lastLoadTime.Set(UnixSeconds(reload?.At ?? source.StartedAt));
        _controlClients.Set(source.ControlClients);
        var recovery = source.GracefulRecovery;
        _recoveryActive.Set(recovery is null ? 0 : 1);
        _recoveryWaiting.Set(recovery?.ProtocolsWaiting ?? 0);
        _recoveryRemaining.Set(recovery?.WaitRemainingSeconds ?? 0);
    }

    internal static double UnixSeconds(DateTimeOffset t) => t.ToUnixTimeMilliseconds() / 1000.0;
}
