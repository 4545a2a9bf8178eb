using Calico.Bgp.Daemon.Hosting;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker;
using Calico.Bgp.Speaker.Session;

namespace Calico.Bgp.Daemon.Tests.Control;

/// <summary>The BGP block of <c>show protocols all</c> against BIRD 1.6's captures.</summary>
public class BgpDetailLinesTests
{
    private static BgpSessionInfo Session(BgpState state) => new()
    {
        State = state,
        StateName = state.ToString(),
        NeighborAddress = IpAddr.Parse("10.99.0.1"),
        NeighborAs = 64512,
        LocalAs = 64512,
        LocalCapabilities = "",
    };

    [Fact]
    public void Peer_restarting_shows_the_graceful_restart_lines_of_bird16()
    {
        // bird1.6-show-protocols-all-peer-crashed-Mesh_10_99_0_1.txt
        var lines = BgpDetailLines.Format(Session(BgpState.Idle) with
        {
            NeighborGracefulRestartActive = true,
            RestartTimerRemaining = 118,
            RestartTime = 120,
            LastError = "Socket: Connection refused",
        }, protocolDown: false);
        Assert.Equal(
        [
            "  BGP state:          Idle",
            "    Neighbor address: 10.99.0.1",
            "    Neighbor AS:      64512",
            "    Neighbor graceful restart active",
            "    Restart timer:    118/-",
            "    Last error:       Socket: Connection refused",
        ], lines);
    }

    [Fact]
    public void Protocol_down_is_bgp_state_down_without_timers()
    {
        // bird1.6-show-protocols-all-disabled-Mesh_10_99_0_1.txt: BGP state Down, address and AS only.
        var lines = BgpDetailLines.Format(Session(BgpState.Idle) with { NeighborGracefulRestartActive = true, RestartTimerRemaining = 120 }, protocolDown: true);
        Assert.Equal(["  BGP state:          Down", "    Neighbor address: 10.99.0.1", "    Neighbor AS:      64512"], lines);
    }

    [Fact]
    public void An_import_limit_adds_the_route_limit_line_after_the_source_address_when_established()
    {
        var established = Session(BgpState.Established) with { SourceAddress = IpAddr.Parse("10.99.0.2"), HoldTime = 240, HoldRemaining = 200 };
        var lines = BgpDetailLines.Format(established, protocolDown: false, routeLimit: (2, 1));
        Assert.Equal(["    Source address:   10.99.0.2", "    Route limit:      2/1", "    Hold timer:       200/240"], lines.Skip(3));
        // Not established: BIRD prints no route limit (bgp_show_proto_info's PS_UP branch).
        Assert.DoesNotContain(BgpDetailLines.Format(Session(BgpState.Active), protocolDown: false, routeLimit: (0, 1)), l => l.Contains("Route limit", StringComparison.Ordinal));
    }
}
