using Calico.Bgp.Daemon.Control;
using Calico.Bgp.Daemon.Hosting;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Daemon.Tests.Control;

/// <summary>Our replies through Calico's own parsing rules (readiness, liveness, status reporter, calicoctl).</summary>
public class CalicoParserTests
{
    private static (FakeControlBackend Backend, ManualTime Time) Node()
    {
        var b = NodeATopology.Build(out var time);
        b.Version = BuildInfo.BirdCompatibleVersion;
        time.Now = ManualTime.At("11:04:47");
        return (b, time);
    }

    private static string Session(FakeControlBackend b, ManualTime t, string command) =>
        $"0001 BIRD {b.Version} ready.\n" + Transcript.Run(b, t, command);

    [Fact]
    public void Readiness_parses_peers_from_show_protocols()
    {
        var (b, t) = Node();
        var peers = CalicoParsers.ScanBirdPeers(Session(b, t, "show protocols"));
        Assert.Equal(["10.99.0.1", "10.99.0.3", "10.99.0.50"], peers.Select(p => p.PeerIp));
        Assert.Equal(["Established", "Established", "Active"], peers.Select(p => p.BgpState));
        Assert.Equal(["up", "up", "start"], peers.Select(p => p.State));
        Assert.Equal("Socket: Connection refused", peers[2].Info);
        Assert.All(peers, p => Assert.DoesNotContain(' ', p.Since));
    }

    [Fact]
    public void Since_older_than_20_hours_is_a_single_date_token()
    {
        var (b, t) = Node();
        t.Now = ManualTime.At("11:04:47").AddDays(2);
        var peers = CalicoParsers.ScanBirdPeers(Session(b, t, "show protocols"));
        Assert.All(peers, p => Assert.Equal("2026-11-26", p.Since));
    }

    [Fact]
    public void Graceful_restart_is_seen_in_show_status_and_ends_with_it()
    {
        var (b, t) = Node();
        Assert.False(CalicoParsers.GrInProgress(Session(b, t, "show status")));
        b.GracefulRecovery = new GracefulRecoveryStatus(1, 148, 240);
        Assert.True(CalicoParsers.GrInProgress(Session(b, t, "show status")));
    }

    [Fact]
    public void Status_reporter_reads_version_router_id_and_times()
    {
        var (b, t) = Node();
        var s = CalicoParsers.ScanBirdStatus(Session(b, t, "show status"));
        Assert.True(s.Ready);
        Assert.Equal(BuildInfo.BirdCompatibleVersion, s.Version);
        Assert.StartsWith("v0.3.3+birdv1.6.8", s.Version, StringComparison.Ordinal);
        Assert.Equal("10.99.0.2", s.RouterId);
        Assert.Equal("2026-11-26 11:04:47", s.ServerTime);
        Assert.Equal("2026-11-26 10:59:43", s.LastBoot);
        Assert.Equal("2026-11-26 10:59:43", s.LastReconfig);
    }

    [Fact]
    public void Status_reporter_reads_bgp_state_and_neighbor_from_show_protocols_all()
    {
        var (b, t) = Node();
        var reply = Session(b, t, "show protocols all Mesh_10_99_0_1");
        var state = reply.Split('\n').Single(l => l.Contains("BGP state:", StringComparison.Ordinal)).Replace("BGP state:", "", StringComparison.Ordinal).Trim();
        var neighbor = reply.Split('\n').Single(l => l.Contains("Neighbor address:", StringComparison.Ordinal)).Replace("Neighbor address:", "", StringComparison.Ordinal).Trim();
        Assert.Equal("Established", state);
        Assert.Equal("10.99.0.1", neighbor);
    }

    [Fact]
    public void Status_reporter_parses_every_route_row()
    {
        var (b, t) = Node();
        var rows = CalicoParsers.ScanBirdRoutes(Session(b, t, "show route"));
        Assert.Equal(9, rows.Count);
        Assert.All(rows, r => Assert.True(r.Primary));
        var bgp = rows.Single(r => r.Dest == "10.65.1.7/32");
        Assert.Equal(("via", "10.99.0.1", "eth0", "Mesh_10_99_0_1"), (bgp.Type, bgp.Gateway, bgp.Interface, bgp.From));
        Assert.Equal("blackhole", rows.Single(r => r.Dest == "10.65.2.0/26").Type);
        Assert.Equal("cali1a2b3c4d5e6", rows.Single(r => r.Dest == "10.65.2.5/32").Interface);
    }

    [Fact]
    public void Second_route_of_a_network_has_an_empty_prefix_column_and_no_star()
    {
        var (b, t) = Node();
        var node50 = b.ProtocolList.Single(p => p.Name == "Node_10_99_0_50");
        var attrs = new PathAttributes
        {
            Source = RouteSource.Bgp,
            Dest = RouteDest.Router,
            Gateway = IpAddr.Parse("10.99.0.50"),
            Interface = "eth0",
            Origin = BgpOrigin.Igp,
            AsPath = AsPath.FromSequence(64513),
            NextHop = IpAddr.Parse("10.99.0.50"),
            LocalPref = 100,
            Recursive = true,
            IgpMetric = 0,
        };
        b.Table.Update(Route.Create(Prefix.Parse("10.65.3.0/26"), b.Table.Attributes.Intern(attrs), node50, since: ManualTime.At("11:01:00")));
        var reply = Transcript.Run(b, t, "show route 10.65.3.0/26");
        Assert.Equal(
            "1007-10.65.3.0/26       via 10.99.0.3 on eth0 [Mesh_10_99_0_3 11:00:51] * (100/0) [i]\n" +
            "                    via 10.99.0.50 on eth0 [Node_10_99_0_50 11:01:00] (100/0) [AS64513i]\n" +
            "0000 \n", reply);
        var rows = CalicoParsers.ScanBirdRoutes("0001 BIRD x ready.\n" + reply);
        Assert.Equal(["10.65.3.0/26", "10.65.3.0/26"], rows.Select(r => r.Dest));
        Assert.Equal([true, false], rows.Select(r => r.Primary));
    }

    [Fact]
    public void Banner_says_bird_and_is_ours()
    {
        Assert.StartsWith("v0.3.3+birdv1.6.8", BuildInfo.BirdCompatibleVersion, StringComparison.Ordinal);
        Assert.Contains("calico-bgp", BuildInfo.BirdCompatibleVersion, StringComparison.Ordinal);
        Assert.DoesNotContain(' ', BuildInfo.BirdCompatibleVersion);
    }
}
