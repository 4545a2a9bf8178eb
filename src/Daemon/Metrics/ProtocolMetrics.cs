using Calico.Bgp.Rib;

namespace Calico.Bgp.Daemon.Metrics;

/// <summary>
/// Per-protocol metrics every protocol has (state, route counts, route change counters), read
/// from <see cref="Protocol"/> and its <see cref="ProtocolStats"/>. Labels: the protocol name and,
/// for prefix counts, the address family; never a prefix.
/// </summary>
internal sealed class ProtocolMetrics
{
    private static readonly string[] StateNames = [.. Enum.GetValues<ProtocolState>().Select(StateLabel)];

    private readonly ScrapedGauge _up;
    private readonly ScrapedGauge _state;
    private readonly ScrapedGauge _since;
    private readonly ScrapedGauge _disabled;
    private readonly ScrapedGauge _received;
    private readonly ScrapedGauge _accepted;
    private readonly ScrapedGauge _filtered;
    private readonly ScrapedGauge _advertised;
    private readonly ScrapedCounter _importUpdates;
    private readonly ScrapedCounter _importWithdraws;
    private readonly ScrapedCounter _exportUpdates;
    private readonly ScrapedCounter _exportWithdraws;

    public ProtocolMetrics(MetricGroup g)
    {
        _up = g.Gauge("calico_bgp_protocol_up", "1 when the protocol is up (BIRD's state column says up).", "protocol", "type");
        _state = g.Gauge("calico_bgp_protocol_state", "The protocol's state: 1 for the current one of down, start, up, stop.", "protocol", "type", "state");
        _since = g.Gauge("calico_bgp_protocol_state_since_timestamp_seconds", "When the protocol entered its current state (Unix time).", "protocol");
        _disabled = g.Gauge("calico_bgp_protocol_disabled", "1 when the protocol is disabled in the config or by the disable command.", "protocol");
        _received = g.Gauge("calico_bgp_protocol_prefixes_received", "Prefixes the protocol holds from its source now, before the import filter (accepted + filtered).", "protocol", "family");
        _accepted = g.Gauge("calico_bgp_protocol_prefixes_accepted", "Prefixes the protocol has in the table now (after the import filter).", "protocol", "family");
        _filtered = g.Gauge("calico_bgp_protocol_prefixes_filtered", "Prefixes rejected by the import filter and held back now.", "protocol", "family");
        _advertised = g.Gauge("calico_bgp_protocol_prefixes_advertised", "Prefixes exported to the protocol now (advertised to the peer, written to the kernel).", "protocol", "family");
        _importUpdates = g.Counter("calico_bgp_protocol_import_updates_total", "Route updates received from the protocol, by result: accepted, filtered (import filter), rejected (invalid), ignored (no change).", "protocol", "family", "result");
        _importWithdraws = g.Counter("calico_bgp_protocol_import_withdraws_total", "Route withdrawals received from the protocol, by result (accepted, ignored).", "protocol", "family", "result");
        _exportUpdates = g.Counter("calico_bgp_protocol_export_updates_total", "Route updates offered to the protocol, by result: sent, filtered (export filter), rejected (the protocol's own rules).", "protocol", "family", "result");
        _exportWithdraws = g.Counter("calico_bgp_protocol_export_withdraws_total", "Route withdrawals sent to the protocol.", "protocol", "family");
    }

    public void Collect(IMetricsSource source, IReadOnlyList<Protocol> protocols)
    {
        var family = source.Ipv6 ? "ipv6" : "ipv4";
        foreach (var p in protocols)
        {
            var name = p.Name;
            var state = p.State;
            _up.Set(state == ProtocolState.Up ? 1 : 0, name, p.TypeName);
            foreach (var s in StateNames)
                _state.Set(s == StateLabel(state) ? 1 : 0, name, p.TypeName, s);
            _since.Set(p.StateSince.ToUnixTimeMilliseconds() / 1000.0, name);
            _disabled.Set(source.IsDisabled(p) ? 1 : 0, name);

            var st = p.Stats;
            _received.Set(st.Imported + st.Filtered, name, family);
            _accepted.Set(st.Imported, name, family);
            _filtered.Set(st.Filtered, name, family);
            _advertised.Set(st.Exported, name, family);
            // The owner is the stats object: a protocol rebuilt by a reload counts from zero again.
            _importUpdates.Set(st, st.ImportUpdatesAccepted, name, family, "accepted");
            _importUpdates.Set(st, st.ImportUpdatesFiltered, name, family, "filtered");
            _importUpdates.Set(st, st.ImportUpdatesRejected, name, family, "rejected");
            _importUpdates.Set(st, st.ImportUpdatesIgnored, name, family, "ignored");
            _importWithdraws.Set(st, st.ImportWithdrawsAccepted, name, family, "accepted");
            _importWithdraws.Set(st, st.ImportWithdrawsIgnored, name, family, "ignored");
            _exportUpdates.Set(st, st.ExportUpdatesSent, name, family, "sent");
            _exportUpdates.Set(st, st.ExportUpdatesFiltered, name, family, "filtered");
            _exportUpdates.Set(st, st.ExportUpdatesRejected, name, family, "rejected");
            _exportWithdraws.Set(st, st.ExportWithdrawsSent, name, family);
        }
    }

    /// <summary>BIRD's words for the state column.</summary>
    internal static string StateLabel(ProtocolState state) => state switch
    {
        ProtocolState.Down => "down",
        ProtocolState.Start => "start",
        ProtocolState.Up => "up",
        _ => "stop",
    };
}
