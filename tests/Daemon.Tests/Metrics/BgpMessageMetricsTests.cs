using Calico.Bgp.Daemon.Metrics;
using Calico.Bgp.Daemon.Tests.Control;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker;
using Calico.Bgp.Speaker.Wire;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Daemon.Tests.Metrics;

/// <summary>
/// The BGP message, NOTIFICATION and transition counters, and the route change results BIRD's
/// <c>show protocols all</c> has, as Prometheus series: names, labels, values, bounds and resets.
/// </summary>
public class BgpMessageMetricsTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.Parse("2026-11-26T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    private static (FakeMetricsSource Source, DaemonMetrics Metrics, ManualTime Time) Build()
    {
        var time = new ManualTime(Start);
        var source = new FakeMetricsSource { StartedAt = Start };
        return (source, new DaemonMetrics(source, time, processMetrics: false), time);
    }

    private static BgpProtocol Bgp(string name, RoutingTable table, TimeProvider time) =>
        new(new BgpProtocolOptions { Name = name, RouterId = 0x0A000001, LocalAs = 64512, PeerAs = 64512, NeighborAddress = IpAddr.Parse("10.0.0.2") },
            table, time, NullLoggerFactory.Instance, null);

    [Fact]
    public async Task Messages_bytes_notifications_and_transitions_are_exported_by_type_and_pair()
    {
        var (source, metrics, time) = Build();
        var bgp = Bgp("Mesh_10_0_0_2", source.Table, time);
        source.ProtocolList.Add(bgp);
        bgp.Messages.CountSent(MessageType.Open, 59);
        bgp.Messages.CountSent(MessageType.Keepalive, 19);
        bgp.Messages.CountSent(MessageType.Keepalive, 19);
        bgp.Messages.CountReceived(MessageType.Update, 55);
        bgp.Messages.CountNotificationSent(6, 2);
        bgp.Messages.CountNotificationReceived(4, 0);
        bgp.Messages.CountEstablished();

        var s = await Scrape.TakeAsync(metrics);
        const string P = "Mesh_10_0_0_2";
        Assert.Equal(1, s.Value("calico_bgp_session_messages_sent_total", ("protocol", P), ("type", "open")));
        Assert.Equal(2, s.Value("calico_bgp_session_messages_sent_total", ("protocol", P), ("type", "keepalive")));
        Assert.Equal(0, s.Value("calico_bgp_session_messages_sent_total", ("protocol", P), ("type", "route_refresh")));
        Assert.Equal(38, s.Value("calico_bgp_session_bytes_sent_total", ("protocol", P), ("type", "keepalive")));
        Assert.Equal(1, s.Value("calico_bgp_session_messages_received_total", ("protocol", P), ("type", "update")));
        Assert.Equal(55, s.Value("calico_bgp_session_bytes_received_total", ("protocol", P), ("type", "update")));
        Assert.Equal(1, s.Value("calico_bgp_session_notifications_sent_total", ("protocol", P), ("code", "6"), ("subcode", "2")));
        Assert.Equal(1, s.Value("calico_bgp_session_notifications_received_total", ("protocol", P), ("code", "4"), ("subcode", "0")));
        Assert.Equal(1, s.Value("calico_bgp_session_established_transitions_total", ("protocol", P)));
        // Five message types each way: bounded whatever arrives.
        Assert.Equal(5, s.Series.Keys.Count(k => k.StartsWith("calico_bgp_session_messages_received_total{", StringComparison.Ordinal)));
        Assert.Contains("calico_bgp_session_messages_sent_total", s.Families);
    }

    [Fact]
    public async Task Notification_pairs_a_peer_makes_up_collapse_into_one_series()
    {
        var (source, metrics, time) = Build();
        var bgp = Bgp("Mesh_10_0_0_3", source.Table, time);
        source.ProtocolList.Add(bgp);
        for (var code = 9; code < 256; code += 7)
            bgp.Messages.CountNotificationReceived((byte)code, (byte)(code % 200));
        var s = await Scrape.TakeAsync(metrics);
        Assert.Equal(1, s.Series.Keys.Count(k => k.StartsWith("calico_bgp_session_notifications_received_total{", StringComparison.Ordinal)));
        Assert.True(s.Value("calico_bgp_session_notifications_received_total", ("protocol", "Mesh_10_0_0_3"), ("code", "0"), ("subcode", "0")) > 30);
    }

    [Fact]
    public async Task A_rebuilt_protocol_counts_from_zero()
    {
        var (source, metrics, time) = Build();
        var old = Bgp("Mesh_10_0_0_4", source.Table, time);
        source.ProtocolList.Add(old);
        old.Messages.CountEstablished();
        old.Messages.CountEstablished();
        var s = await Scrape.TakeAsync(metrics);
        Assert.Equal(2, s.Value("calico_bgp_session_established_transitions_total", ("protocol", "Mesh_10_0_0_4")));

        source.ProtocolList.Clear();
        var rebuilt = Bgp("Mesh_10_0_0_4", source.Table, time);
        source.ProtocolList.Add(rebuilt);
        rebuilt.Messages.CountEstablished();
        s = await Scrape.TakeAsync(metrics);
        Assert.Equal(1, s.Value("calico_bgp_session_established_transitions_total", ("protocol", "Mesh_10_0_0_4")));
    }

    [Fact]
    public async Task Route_change_results_include_birds_rejected_and_ignored()
    {
        var (source, metrics, time) = Build();
        var bgp = Bgp("Mesh_10_0_0_5", source.Table, time);
        source.ProtocolList.Add(bgp);
        bgp.Stats.CountImportUpdate(true);
        bgp.Stats.CountImportUpdateIgnored();
        bgp.Stats.CountImportUpdateIgnored();
        bgp.Stats.CountImportUpdateRejected();
        bgp.Stats.CountImportWithdraw(false);
        bgp.Stats.AddExportOutcomes(rejected: 1, filtered: 0, withdrawsReceived: 0);
        bgp.Stats.CountExportUpdate(false);
        var s = await Scrape.TakeAsync(metrics);
        const string P = "Mesh_10_0_0_5";
        Assert.Equal(1, s.Value("calico_bgp_protocol_import_updates_total", ("protocol", P), ("family", "ipv4"), ("result", "accepted")));
        Assert.Equal(2, s.Value("calico_bgp_protocol_import_updates_total", ("protocol", P), ("family", "ipv4"), ("result", "ignored")));
        Assert.Equal(1, s.Value("calico_bgp_protocol_import_updates_total", ("protocol", P), ("family", "ipv4"), ("result", "rejected")));
        Assert.Equal(1, s.Value("calico_bgp_protocol_import_withdraws_total", ("protocol", P), ("family", "ipv4"), ("result", "ignored")));
        Assert.Equal(1, s.Value("calico_bgp_protocol_export_updates_total", ("protocol", P), ("family", "ipv4"), ("result", "rejected")));
        Assert.Equal(1, s.Value("calico_bgp_protocol_export_updates_total", ("protocol", P), ("family", "ipv4"), ("result", "filtered")));
        Assert.Equal(2, bgp.Stats.ExportUpdatesReceived);
        Assert.Equal(4, bgp.Stats.ImportUpdatesReceived);
    }
}
