using System.Globalization;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker;
using Calico.Bgp.Speaker.Session;

namespace Calico.Bgp.Daemon.Metrics;

/// <summary>
/// Per-session metrics of BGP protocols, from <see cref="BgpProtocol.Snapshot"/> (one consistent
/// read under the session's lock per scrape). Labelled by protocol; the neighbor's address and AS
/// are on the info series only, to join on.
/// </summary>
internal sealed class BgpSessionMetrics
{
    private static readonly string[] BgpStateNames = Enum.GetNames<BgpState>();
    /// <summary>Prometheus-style words for the message types, in <see cref="BgpMessageStats.Types"/> order.</summary>
    private static readonly string[] TypeLabels = [.. BgpMessageStats.Types.Select(TypeLabel)];

    private readonly ScrapedGauge _info;
    private readonly ScrapedGauge _state;
    private readonly ScrapedGauge _established;
    private readonly ScrapedGauge _uptime;
    private readonly ScrapedGauge _holdTime;
    private readonly ScrapedGauge _keepaliveTime;
    private readonly ScrapedGauge _peerRestarting;
    private readonly ScrapedGauge _peerRestartRemaining;
    private readonly ScrapedGauge _recoveryPending;
    private readonly ScrapedGauge _endOfRib;
    private readonly ScrapedCounter _collisions;
    private readonly ScrapedCounter _importLimitHits;
    private readonly ScrapedCounter _messagesSent;
    private readonly ScrapedCounter _messagesReceived;
    private readonly ScrapedCounter _bytesSent;
    private readonly ScrapedCounter _bytesReceived;
    private readonly ScrapedCounter _notificationsSent;
    private readonly ScrapedCounter _notificationsReceived;
    private readonly ScrapedCounter _establishedTransitions;

    public BgpSessionMetrics(MetricGroup g)
    {
        _info = g.Gauge("calico_bgp_session_info", "Always 1: the session's neighbor, ASes and type (internal/external).", "protocol", "neighbor", "neighbor_as", "local_as", "session");
        _state = g.Gauge("calico_bgp_session_state", "The BGP FSM state (RFC 4271 §8.2.2): 1 for the current one.", "protocol", "state");
        _established = g.Gauge("calico_bgp_session_established", "1 when the session is Established.", "protocol");
        _uptime = g.Gauge("calico_bgp_session_uptime_seconds", "Seconds since the session became Established; 0 when it is not.", "protocol");
        _holdTime = g.Gauge("calico_bgp_session_hold_time_seconds", "Negotiated hold time; 0 when not Established.", "protocol");
        _keepaliveTime = g.Gauge("calico_bgp_session_keepalive_time_seconds", "Negotiated keepalive time; 0 when not Established.", "protocol");
        _peerRestarting = g.Gauge("calico_bgp_session_peer_graceful_restart", "1 while the neighbor restarts gracefully and its routes are kept stale (RFC 4724 receiving speaker).", "protocol");
        _peerRestartRemaining = g.Gauge("calico_bgp_session_peer_restart_remaining_seconds", "Seconds left on the neighbor's restart timer; 0 when it is not restarting.", "protocol");
        _recoveryPending = g.Gauge("calico_bgp_session_graceful_recovery_pending", "1 while this session holds the daemon's graceful-restart recovery (bird -R) waiting for End-of-RIB.", "protocol");
        _endOfRib = g.Gauge("calico_bgp_session_end_of_rib_received", "1 once the neighbor's End-of-RIB arrived in this session.", "protocol");
        _collisions = g.Counter("calico_bgp_session_collisions_resolved_total", "Connection collisions resolved (RFC 4271 §6.8).", "protocol");
        _importLimitHits = g.Counter("calico_bgp_session_import_limit_hits_total", "Times the import limit was hit (BIRD's import limit N action …).", "protocol");
        _messagesSent = g.Counter("calico_bgp_session_messages_sent_total", "BGP messages sent, by type (open, update, notification, keepalive, route_refresh).", "protocol", "type");
        _messagesReceived = g.Counter("calico_bgp_session_messages_received_total", "BGP messages received, by type.", "protocol", "type");
        _bytesSent = g.Counter("calico_bgp_session_bytes_sent_total", "Bytes of BGP messages sent (headers included), by type.", "protocol", "type");
        _bytesReceived = g.Counter("calico_bgp_session_bytes_received_total", "Bytes of BGP messages received (headers included), by type.", "protocol", "type");
        _notificationsSent = g.Counter("calico_bgp_session_notifications_sent_total", "NOTIFICATIONs sent, by error code and subcode (RFC 4271 §4.5; 0/0 for a pair out of range).", "protocol", "code", "subcode");
        _notificationsReceived = g.Counter("calico_bgp_session_notifications_received_total", "NOTIFICATIONs received, by error code and subcode (RFC 4271 §4.5; 0/0 for a pair out of range).", "protocol", "code", "subcode");
        _establishedTransitions = g.Counter("calico_bgp_session_established_transitions_total", "Times the session reached Established.", "protocol");
    }

    public void Collect(IMetricsSource source, IReadOnlyList<Protocol> protocols, DateTimeOffset now)
    {
        foreach (var bgp in protocols.OfType<BgpProtocol>())
        {
            var name = bgp.Name;
            var s = bgp.Snapshot();
            var established = s.State == BgpState.Established;
            _info.Set(1, name, s.NeighborAddress.ToString(), Number(s.NeighborAs), Number(s.LocalAs), bgp.IsInternal ? "internal" : "external");
            foreach (var state in BgpStateNames)
                _state.Set(state == s.State.ToString() ? 1 : 0, name, state);
            _established.Set(established ? 1 : 0, name);
            // The protocol goes up when the session is established; its state time is that moment.
            _uptime.Set(established && bgp.State == ProtocolState.Up ? Math.Max(0, (now - bgp.StateSince).TotalSeconds) : 0, name);
            _holdTime.Set(s.HoldTime ?? 0, name);
            _keepaliveTime.Set(s.KeepaliveTime ?? 0, name);
            _peerRestarting.Set(s.NeighborGracefulRestartActive ? 1 : 0, name);
            _peerRestartRemaining.Set(s.RestartTimerRemaining ?? 0, name);
            _recoveryPending.Set(source.HoldsRecoveryLock(bgp) ? 1 : 0, name);
            _endOfRib.Set(established && bgp.ReceivedEndOfRib ? 1 : 0, name);
            _collisions.Set(bgp, bgp.CollisionsResolved, name);
            _importLimitHits.Set(bgp, bgp.ImportLimitHits, name);
            CollectMessages(bgp.Messages, name);
        }
    }

    /// <summary>The message counters; the owner is the counters object, so a rebuilt protocol starts from zero.</summary>
    private void CollectMessages(BgpMessageStats m, string name)
    {
        for (var i = 0; i < BgpMessageStats.Types.Count; i++)
        {
            var type = BgpMessageStats.Types[i];
            var label = TypeLabels[i];
            _messagesSent.Set(m, m.MessagesSent(type), name, label);
            _messagesReceived.Set(m, m.MessagesReceived(type), name, label);
            _bytesSent.Set(m, m.BytesSent(type), name, label);
            _bytesReceived.Set(m, m.BytesReceived(type), name, label);
        }
        // Only the pairs seen: at most the bounded code/subcode table, usually one or two.
        foreach (var n in m.NotificationsSent())
            _notificationsSent.Set(m, n.Count, name, Number(n.Code), Number(n.Subcode));
        foreach (var n in m.NotificationsReceived())
            _notificationsReceived.Set(m, n.Count, name, Number(n.Code), Number(n.Subcode));
        _establishedTransitions.Set(m, m.EstablishedTransitions, name);
    }

    internal static string TypeLabel(Speaker.Wire.MessageType type) => type switch
    {
        Speaker.Wire.MessageType.Open => "open",
        Speaker.Wire.MessageType.Update => "update",
        Speaker.Wire.MessageType.Notification => "notification",
        Speaker.Wire.MessageType.Keepalive => "keepalive",
        _ => "route_refresh",
    };

    private static string Number(uint n) => n.ToString(CultureInfo.InvariantCulture);
}
