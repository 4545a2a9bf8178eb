using Calico.Bgp.Daemon.Control;
using Calico.Bgp.Daemon.Metrics;
using Calico.Bgp.Daemon.Tests.Control;
using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Daemon.Tests.Metrics;

/// <summary>The scrape-time collector against a fake daemon: values mirrored, labels bounded, removed protocols gone, restarts reset counters.</summary>
public class DaemonMetricsTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.Parse("2026-11-26T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    private static (FakeMetricsSource Source, ManualTime Time, DaemonMetrics Metrics) Build()
    {
        var time = new ManualTime(Start);
        var source = new FakeMetricsSource { StartedAt = Start };
        return (source, time, new DaemonMetrics(source, time, processMetrics: false));
    }

    private static BgpProtocol Bgp(string name, string neighbor, RoutingTable table, TimeProvider time) =>
        new(new BgpProtocolOptions { Name = name, RouterId = 0x0A000001, LocalAs = 64512, PeerAs = 64513, NeighborAddress = IpAddr.Parse(neighbor) },
            table, time, NullLoggerFactory.Instance, null);

    [Fact]
    public async Task Process_metrics_report_build_config_reload_control_and_recovery()
    {
        var (source, time, metrics) = Build();
        source.ConfigGeneration = 3;
        source.LastReload = new ReloadOutcome(false, Start.AddSeconds(90));
        source.ControlClients = 2;
        source.GracefulRecovery = new GracefulRecoveryStatus(4, 200, 240);
        var s = await Scrape.TakeAsync(metrics);
        Assert.True(s.Has("calico_bgp_build_info", "bird_version=\"v0.3.3+birdv1.6.8"));
        Assert.Equal(Start.ToUnixTimeSeconds(), s.Value("calico_bgp_start_time_seconds"));
        Assert.Equal(3, s.Value("calico_bgp_config_generation"));
        Assert.Equal(0, s.Value("calico_bgp_config_last_reload_successful"));
        Assert.Equal(Start.ToUnixTimeSeconds() + 90, s.Value("calico_bgp_config_last_reload_timestamp_seconds"));
        Assert.Equal(2, s.Value("calico_bgp_control_clients"));
        Assert.Equal(1, s.Value("calico_bgp_graceful_recovery_active"));
        Assert.Equal(4, s.Value("calico_bgp_graceful_recovery_waiting_protocols"));
        Assert.Equal(200, s.Value("calico_bgp_graceful_recovery_remaining_seconds"));

        source.GracefulRecovery = null;
        source.LastReload = new ReloadOutcome(true, Start.AddSeconds(95));
        s = await Scrape.TakeAsync(metrics);
        Assert.Equal(0, s.Value("calico_bgp_graceful_recovery_active"));
        Assert.Equal(1, s.Value("calico_bgp_config_last_reload_successful"));
        _ = time;
    }

    [Fact]
    public async Task Protocol_route_counters_mirror_protocol_stats_per_family()
    {
        var (source, time, metrics) = Build();
        var p = new FakeProtocol("static1", "Static", source.Table, time, 200);
        p.Set(ProtocolState.Up);
        source.ProtocolList.Add(p);
        p.Stats.AddImported(5);
        p.Stats.AddFiltered(2);
        p.Stats.AddExported(7);
        for (var i = 0; i < 6; i++)
            p.Stats.CountImportUpdate(accepted: i < 4);
        p.Stats.CountImportWithdraw(accepted: true);
        p.Stats.CountImportWithdraw(accepted: false);
        p.Stats.CountExportUpdate(sent: true);
        p.Stats.CountExportWithdraw();

        var s = await Scrape.TakeAsync(metrics);
        Assert.Equal(1, s.Value("calico_bgp_protocol_up", ("protocol", "static1"), ("type", "Static")));
        Assert.Equal(1, s.Value("calico_bgp_protocol_state", ("protocol", "static1"), ("type", "Static"), ("state", "up")));
        Assert.Equal(0, s.Value("calico_bgp_protocol_state", ("protocol", "static1"), ("type", "Static"), ("state", "down")));
        Assert.Equal(7, s.Value("calico_bgp_protocol_prefixes_received", ("protocol", "static1"), ("family", "ipv4")));
        Assert.Equal(5, s.Value("calico_bgp_protocol_prefixes_accepted", ("protocol", "static1"), ("family", "ipv4")));
        Assert.Equal(2, s.Value("calico_bgp_protocol_prefixes_filtered", ("protocol", "static1"), ("family", "ipv4")));
        Assert.Equal(7, s.Value("calico_bgp_protocol_prefixes_advertised", ("protocol", "static1"), ("family", "ipv4")));
        Assert.Equal(4, s.Value("calico_bgp_protocol_import_updates_total", ("protocol", "static1"), ("family", "ipv4"), ("result", "accepted")));
        Assert.Equal(2, s.Value("calico_bgp_protocol_import_updates_total", ("protocol", "static1"), ("family", "ipv4"), ("result", "filtered")));
        Assert.Equal(1, s.Value("calico_bgp_protocol_import_withdraws_total", ("protocol", "static1"), ("family", "ipv4"), ("result", "ignored")));
        Assert.Equal(1, s.Value("calico_bgp_protocol_export_updates_total", ("protocol", "static1"), ("family", "ipv4"), ("result", "sent")));
        Assert.Equal(1, s.Value("calico_bgp_protocol_export_withdraws_total", ("protocol", "static1"), ("family", "ipv4")));

        source.Ipv6 = true;
        s = await Scrape.TakeAsync(metrics);
        Assert.Equal(5, s.Value("calico_bgp_protocol_prefixes_accepted", ("protocol", "static1"), ("family", "ipv6")));
        Assert.False(s.Has("calico_bgp_protocol_prefixes_accepted", "family=\"ipv4\""));
    }

    [Fact]
    public async Task A_removed_protocol_disappears_and_a_rebuilt_one_counts_from_zero()
    {
        var (source, time, metrics) = Build();
        var first = new FakeProtocol("Node_10_0_0_2", "BGP", source.Table, time, 100);
        source.ProtocolList.Add(first);
        for (var i = 0; i < 10; i++)
            first.Stats.CountImportUpdate(accepted: true);
        var s = await Scrape.TakeAsync(metrics);
        Assert.Equal(10, s.Value("calico_bgp_protocol_import_updates_total", ("protocol", "Node_10_0_0_2"), ("family", "ipv4"), ("result", "accepted")));

        // A reload restarts the protocol: a new instance with fresh stats under the same name.
        var second = new FakeProtocol("Node_10_0_0_2", "BGP", source.Table, time, 100);
        second.Stats.CountImportUpdate(accepted: true);
        source.ProtocolList[0] = second;
        s = await Scrape.TakeAsync(metrics);
        Assert.Equal(1, s.Value("calico_bgp_protocol_import_updates_total", ("protocol", "Node_10_0_0_2"), ("family", "ipv4"), ("result", "accepted")));

        source.ProtocolList.Clear();
        s = await Scrape.TakeAsync(metrics);
        Assert.DoesNotContain(s.Series.Keys, k => k.Contains("Node_10_0_0_2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Bgp_session_metrics_come_from_the_snapshot()
    {
        var (source, time, metrics) = Build();
        var bgp = Bgp("Mesh_10_0_0_2", "10.0.0.2", source.Table, time);
        source.ProtocolList.Add(bgp);
        source.RecoveryLocks.Add(bgp.Name);
        var s = await Scrape.TakeAsync(metrics);
        Assert.Equal(1, s.Value("calico_bgp_session_info", ("protocol", "Mesh_10_0_0_2"), ("neighbor", "10.0.0.2"), ("neighbor_as", "64513"), ("local_as", "64512"), ("session", "external")));
        Assert.Equal(1, s.Value("calico_bgp_session_state", ("protocol", "Mesh_10_0_0_2"), ("state", "Idle")));
        Assert.Equal(0, s.Value("calico_bgp_session_state", ("protocol", "Mesh_10_0_0_2"), ("state", "Established")));
        Assert.Equal(0, s.Value("calico_bgp_session_established", ("protocol", "Mesh_10_0_0_2")));
        Assert.Equal(0, s.Value("calico_bgp_session_uptime_seconds", ("protocol", "Mesh_10_0_0_2")));
        Assert.Equal(1, s.Value("calico_bgp_session_graceful_recovery_pending", ("protocol", "Mesh_10_0_0_2")));
        Assert.Equal(0, s.Value("calico_bgp_session_collisions_resolved_total", ("protocol", "Mesh_10_0_0_2")));
        // Six FSM states, one series each: bounded by protocols, never by prefixes.
        Assert.Equal(6, s.Series.Keys.Count(k => k.StartsWith("calico_bgp_session_state{", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Kernel_metrics_come_from_the_counters()
    {
        var (source, time, metrics) = Build();
        var kernel = new KernelProtocol(new KernelProtocolOptions { Name = "kernel1" }, source.Table, time, NullLoggerFactory.Instance,
            () => throw new InvalidOperationException("not started in this test"));
        source.ProtocolList.Add(kernel);
        var s = await Scrape.TakeAsync(metrics);
        Assert.Equal(0, s.Value("calico_bgp_kernel_routes_installed", ("protocol", "kernel1")));
        Assert.Equal(0, s.Value("calico_bgp_kernel_route_writes_total", ("protocol", "kernel1")));
        Assert.Equal(0, s.Value("calico_bgp_kernel_scans_total", ("protocol", "kernel1")));
        Assert.Equal(kernel.IsHoldingPrune ? 1 : 0, s.Value("calico_bgp_kernel_graceful_prune_held", ("protocol", "kernel1")));
        Assert.Equal(0, s.Value("calico_bgp_kernel_nexthop_objects", ("protocol", "kernel1")));
        Assert.Equal("ENETUNREACH", KernelMetrics.ErrnoName(101));
        Assert.Equal("E42", KernelMetrics.ErrnoName(42));
    }

    [Fact]
    public async Task Rib_metrics_count_routes_by_source_best_stale_attributes_and_export_lag()
    {
        var (source, time, metrics) = Build();
        var table = source.Table;
        var static1 = new FakeProtocol("static1", "Static", table, time, 200);
        var mesh = new FakeProtocol("Mesh_10_0_0_2", "BGP", table, time, 100);
        var staticAttrs = table.Attributes.Intern(new PathAttributes { Source = RouteSource.Static, Dest = RouteDest.Blackhole });
        var bgpAttrs = table.Attributes.Intern(new PathAttributes { Source = RouteSource.Bgp, Dest = RouteDest.Router, Gateway = IpAddr.Parse("10.0.0.2") });
        using var journal = table.SubscribeJournal("bgp-group", capacity: 16);
        journal.Resync([]);
        table.Update(Route.Create(Prefix.Parse("10.60.1.0/24"), staticAttrs, static1));
        table.Update(Route.Create(Prefix.Parse("10.60.1.0/24"), bgpAttrs, mesh));
        table.Update(Route.Create(Prefix.Parse("10.50.1.0/24"), bgpAttrs, mesh, stale: true));
        table.Update(Route.Create(Prefix.Parse("10.50.2.0/24"), bgpAttrs, mesh));

        var s = await Scrape.TakeAsync(metrics);
        Assert.Equal(3, s.Value("calico_bgp_rib_prefixes", ("table", "master")));
        Assert.Equal(3, s.Value("calico_bgp_rib_routes", ("table", "master"), ("family", "ipv4"), ("source", "bgp")));
        Assert.Equal(1, s.Value("calico_bgp_rib_routes", ("table", "master"), ("family", "ipv4"), ("source", "static")));
        // The static route (preference 200) wins 10.60.1.0/24.
        Assert.Equal(1, s.Value("calico_bgp_rib_best_routes", ("table", "master"), ("family", "ipv4"), ("source", "static")));
        Assert.Equal(2, s.Value("calico_bgp_rib_best_routes", ("table", "master"), ("family", "ipv4"), ("source", "bgp")));
        Assert.Equal(1, s.Value("calico_bgp_rib_stale_routes", ("table", "master")));
        Assert.Equal(table.Attributes.Count, s.Value("calico_bgp_rib_attribute_sets", ("table", "master")));
        Assert.Equal(4, s.Value("calico_bgp_rib_changes_total", ("table", "master")));

        Assert.Equal(4, s.Value("calico_bgp_rib_journal_lag_changes", ("table", "master"), ("consumer", "bgp-group")));
        Assert.Equal(0, s.Value("calico_bgp_rib_journal_resyncs_total", ("table", "master"), ("consumer", "bgp-group")));

        Assert.Equal(4, journal.TryRead(new TableChange[8]));
        s = await Scrape.TakeAsync(metrics);
        Assert.Equal(0, s.Value("calico_bgp_rib_journal_lag_changes", ("table", "master"), ("consumer", "bgp-group")));

        // Falling a journal's length behind is a resync, counted.
        for (var i = 0; i < 20; i++)
            table.Update(Route.Create(Prefix.Parse("10.50.2.0/24"), i % 2 == 0 ? staticAttrs : bgpAttrs, static1));
        Assert.Equal(0, journal.TryRead(new TableChange[8]));
        s = await Scrape.TakeAsync(metrics);
        Assert.Equal(1, s.Value("calico_bgp_rib_journal_resyncs_total", ("table", "master"), ("consumer", "bgp-group")));
    }

    [Fact]
    public async Task Every_exported_family_follows_the_naming_conventions()
    {
        var (source, time, metrics) = Build();
        source.ProtocolList.Add(Bgp("Mesh_10_0_0_2", "10.0.0.2", source.Table, time));
        source.ProtocolList.Add(new KernelProtocol(new KernelProtocolOptions { Name = "kernel1" }, source.Table, time, NullLoggerFactory.Instance,
            () => throw new InvalidOperationException("not started in this test")));
        var s = await Scrape.TakeAsync(metrics);
        var types = s.Text.Split('\n').Where(l => l.StartsWith("# TYPE calico_bgp_", StringComparison.Ordinal)).Select(l => l.Split(' ')).ToList();
        Assert.NotEmpty(types);
        foreach (var t in types)
        {
            Assert.Matches("^calico_bgp_[a-z0-9_]+$", t[2]);
            // Counters end in _total; gauges never do.
            Assert.Equal(t[3] == "counter", t[2].EndsWith("_total", StringComparison.Ordinal));
        }
        foreach (var name in metrics.Names)
            Assert.Contains(name, s.Families);
    }

    [Fact]
    public async Task Rib_metrics_count_unresolved_routes_and_next_hops_by_state()
    {
        var (source, time, metrics) = Build();
        var table = source.Table;
        var direct = new FakeProtocol("direct1", "Direct", table, time, 240);
        var mesh = new FakeProtocol("Mesh_10_0_0_2", "BGP", table, time, 100);
        table.Update(Route.Create(Prefix.Parse("10.0.0.0/24"), table.Attributes.Intern(new PathAttributes { Source = RouteSource.Device, Dest = RouteDest.Device, Interface = "eth0" }), direct));
        var received = new PathAttributes { Source = RouteSource.Bgp, Dest = RouteDest.Router };
        var near = table.Hosts.Resolve(IpAddr.Parse("10.0.0.2")).ApplyTo(received with { NextHop = IpAddr.Parse("10.0.0.2") });
        var far = table.Hosts.Resolve(IpAddr.Parse("10.225.0.4")).ApplyTo(received with { NextHop = IpAddr.Parse("10.225.0.4") });
        table.Update(Route.Create(Prefix.Parse("10.50.1.0/24"), table.Attributes.Intern(near), mesh));
        table.Update(Route.Create(Prefix.Parse("10.50.2.0/24"), table.Attributes.Intern(far), mesh));
        table.Update(Route.Create(Prefix.Parse("10.50.3.0/24"), table.Attributes.Intern(far), mesh));

        var s = await Scrape.TakeAsync(metrics);
        Assert.Equal(2, s.Value("calico_bgp_rib_unresolved_routes", ("table", "master")));
        Assert.Equal(1, s.Value("calico_bgp_rib_next_hops", ("table", "master"), ("state", "resolved")));
        Assert.Equal(1, s.Value("calico_bgp_rib_next_hops", ("table", "master"), ("state", "unresolved")));
        Assert.Equal(0, s.Value("calico_bgp_rib_next_hop_refreshes_total", ("table", "master")));

        // A route to the far next hop arrives: the cache looks again and it resolves.
        table.Update(Route.Create(Prefix.Parse("10.225.0.4/32"), table.Attributes.Intern(new PathAttributes { Source = RouteSource.Static, Dest = RouteDest.Router, Gateway = IpAddr.Parse("10.0.0.1"), Interface = "eth0" }), direct));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (table.Hosts.Refreshes == 0 && DateTime.UtcNow < deadline)
            await Task.Delay(10);
        s = await Scrape.TakeAsync(metrics);
        Assert.Equal(2, s.Value("calico_bgp_rib_next_hops", ("table", "master"), ("state", "resolved")));
        Assert.Equal(0, s.Value("calico_bgp_rib_next_hops", ("table", "master"), ("state", "unresolved")));
        Assert.Equal(1, s.Value("calico_bgp_rib_next_hop_refreshes_total", ("table", "master")));
    }
}
