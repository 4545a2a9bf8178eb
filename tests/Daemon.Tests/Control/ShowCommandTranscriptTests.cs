using Calico.Bgp.Daemon.Control;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Daemon.Tests.Control;

/// <summary>Our replies against BIRD 1.6.8's, byte for byte, on the transcript lab's topology.</summary>
public class ShowCommandTranscriptTests
{
    private static string Run(string command, Action<FakeControlBackend, ManualTime>? setup = null)
    {
        var backend = NodeATopology.Build(out var time);
        time.Now = ManualTime.At("11:04:47");
        setup?.Invoke(backend, time);
        return Transcript.Run(backend, time, command);
    }

    [Theory]
    [InlineData("show protocols", "bird1.6-show-protocols.txt")]
    [InlineData("show protocols all", "bird1.6-show-protocols-all.txt")]
    [InlineData("show protocols all Mesh_10_99_0_1", "bird1.6-show-protocols-all-Mesh_10_99_0_1.txt")]
    [InlineData("show protocols all Mesh_10_99_0_3", "bird1.6-show-protocols-all-Mesh_10_99_0_3.txt")]
    [InlineData("show protocols \"Mesh*\"", "bird1.6-show-protocols-pattern.txt")]
    [InlineData("show protocols \"Foo*\"", "bird1.6-show-protocols-pattern-nomatch.txt")]
    [InlineData("show protocols NoSuchProto", "bird1.6-show-protocols-no-such-symbol.txt")]
    [InlineData("show protocols all NoSuchProto", "bird1.6-show-protocols-all-no-such-symbol.txt")]
    [InlineData("show route for 10.65.1.7", "bird1.6-show-route-for-10.65.1.7.txt")]
    [InlineData("show route all for 10.65.1.7", "bird1.6-show-route-all-for-10.65.1.7.txt")]
    [InlineData("show route for 10.65.2.5", "bird1.6-show-route-for-10.65.2.5.txt")]
    [InlineData("show route 10.65.3.0/26", "bird1.6-show-route-10.65.3.0-26.txt")]
    [InlineData("show route for 192.0.2.1", "bird1.6-show-route-not-in-table.txt")]
    [InlineData("show route for 10.65.1.999", "bird1.6-show-route-for-bad-address.txt")]
    [InlineData("show route count", "bird1.6-show-route-count.txt")]
    [InlineData("show nonsense", "bird1.6-syntax-error.txt")]
    [InlineData("frobnicate", "bird1.6-unknown-command.txt")]
    [InlineData("", "bird1.6-empty-line.txt")]
    [InlineData("sh pro", "bird1.6-abbreviated-command.txt")]
    [InlineData("disable NoSuchProto", "bird1.6-disable-no-such-symbol.txt")]
    [InlineData("disable \"Foo*\"", "bird1.6-disable-pattern-nomatch.txt")]
    [InlineData("show symbols Mesh_10_99_0_1", "bird1.6-show-symbols-one.txt")]
    [InlineData("restart Mesh_10_99_0_3", "bird1.6-restart.txt")]
    [InlineData("reload Mesh_10_99_0_1", "bird1.6-reload.txt")]
    [InlineData("reload in Mesh_10_99_0_1", "bird1.6-reload-in.txt")]
    [InlineData("enable Mesh_10_99_0_1", "bird1.6-enable-already.txt")]
    [InlineData("disable \"Node*\"", "bird1.6-disable-pattern.txt")]
    [InlineData("disable Mesh_10_99_0_1 \"maintenance window\"", "bird1.6-disable-with-message.txt")]
    [InlineData("down", "bird1.6-down.txt")]
    [InlineData("echo all", "bird1.6-echo-all-async.txt", "0000 \n")]
    public void Reply_matches_bird_byte_for_byte(string command, string file, string? expectedPrefix = null)
    {
        var expected = expectedPrefix ?? Transcript.Replies(file);
        // BGP timers (Hold/Keepalive) come from the backend and tick; everything else is exact.
        Assert.Equal(MaskTimers(expected), MaskTimers(Run(command)));
    }

    private static string MaskTimers(string text) =>
        System.Text.RegularExpressions.Regex.Replace(text, @"(timer: +)\d+/\d+", "$1N/N");

    [Fact]
    public void Show_status_matches_bird()
    {
        var actual = Run("show status", (_, t) => t.Now = ManualTime.At("11:04:46"));
        Assert.Equal(Transcript.Replies("bird1.6-show-status.txt"), actual);
    }

    [Fact]
    public void Show_status_during_graceful_restart_has_the_0024_block()
    {
        var actual = Run("show status", (b, t) =>
        {
            t.Now = ManualTime.At("10:59:44");
            b.GracefulRecovery = new GracefulRecoveryStatus(3, 239, 240);
        });
        Assert.Equal(Transcript.Replies("bird1.6-show-status-gr-recovery.txt"), actual);
    }

    [Fact]
    public void Show_protocols_shows_wait_and_gr_recovery_marks()
    {
        var actual = Run("show protocols all kernel1", (b, _) =>
        {
            b.GracefulRecovery = new GracefulRecoveryStatus(1, 100, 240);
            var kernel = b.ProtocolList.Single(p => p.Name == "kernel1");
            kernel.Detail = kernel.Detail with { StateWord = "wait", GracefulRecoveryWaiting = true };
        });
        Assert.Contains("1002-kernel1  Kernel   master   wait   10:59:43    \n", actual, StringComparison.Ordinal);
        Assert.Contains("\n   GR recovery:    waiting\n", actual, StringComparison.Ordinal);
    }

    [Fact]
    public void Disabled_protocol_has_message_and_no_route_statistics()
    {
        var actual = Run("show protocols all Mesh_10_99_0_1", (b, t) =>
        {
            t.Now = ManualTime.At("11:05:15");
            var mesh = b.ProtocolList.Single(p => p.Name == "Mesh_10_99_0_1");
            mesh.Set(ProtocolState.Down);
            mesh.Detail = mesh.Detail with
            {
                Message = "maintenance window",
                ExtraLines = ["  BGP state:          Down", "    Neighbor address: 10.99.0.1", "    Neighbor AS:      64512"],
            };
        });
        Assert.Equal(Transcript.Replies("bird1.6-show-protocols-all-disabled-Mesh_10_99_0_1.txt"), actual);
    }

    [Fact]
    public void An_import_limit_is_shown_after_the_filters_with_its_action_and_hit_mark()
    {
        // BIRD 1.6's proto_show_limit; ImportLimitControlSocketTests compares it with a running BIRD 1.6.
        var actual = Run("show protocols all Mesh_10_99_0_1", (b, _) =>
        {
            var mesh = b.ProtocolList.Single(p => p.Name == "Mesh_10_99_0_1");
            mesh.Detail = mesh.Detail with { ImportLimit = new ProtocolLimit(100, "warn", Hit: false) };
        });
        Assert.Contains("\n   Output filter:  (unnamed)\n   Import limit:   100\n     Action:       warn\n   Routes:", actual, StringComparison.Ordinal);
        var hit = Run("show protocols all Mesh_10_99_0_1", (b, _) =>
        {
            var mesh = b.ProtocolList.Single(p => p.Name == "Mesh_10_99_0_1");
            mesh.Detail = mesh.Detail with { ImportLimit = new ProtocolLimit(1, "block", Hit: true) };
        });
        Assert.Contains("\n   Import limit:   1 [HIT]\n     Action:       block\n", hit, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("show route", "bird1.6-show-route.txt")]
    [InlineData("show route all", "bird1.6-show-route-all.txt")]
    [InlineData("show route primary", "bird1.6-show-route-primary.txt")]
    [InlineData("show route stats", "bird1.6-show-route-stats.txt")]
    [InlineData("show route protocol Mesh_10_99_0_1", "bird1.6-show-route-protocol-Mesh_10_99_0_1.txt")]
    [InlineData("show route where source = RTS_BGP", "bird1.6-show-route-where-bgp.txt")]
    public void Route_listing_matches_bird_up_to_network_order(string command, string file)
    {
        var expected = Transcript.Replies(file);
        var actual = Run(command);
        Assert.Equal(Transcript.RouteGroups(expected), Transcript.RouteGroups(actual));
        // The framing: the first line carries the code, the reply ends as BIRD's does.
        Assert.Equal(expected[..5], actual[..5]);
        Assert.Equal(expected[expected.LastIndexOf('\n', expected.Length - 2)..], actual[actual.LastIndexOf('\n', actual.Length - 2)..]);
    }

    [Fact]
    public void Show_route_export_lists_what_the_backend_accepts()
    {
        var expected = Transcript.Replies("bird1.6-show-route-export-Mesh_10_99_0_1.txt");
        var actual = Run("show route export Mesh_10_99_0_1", (b, _) =>
            b.Export = (_, r) => r.Attributes.Source is RouteSource.Static or RouteSource.Inherit ? ExportVerdict.Accepted : ExportVerdict.Refused);
        Assert.Equal(Transcript.RouteGroups(expected), Transcript.RouteGroups(actual));
    }

    [Fact]
    public void Show_route_export_of_a_protocol_that_is_not_up_is_8005()
    {
        Assert.Equal("8005 Protocol is down\n", Run("show route export Node_10_99_0_50"));
    }

    [Fact]
    public void Interfaces_match_bird()
    {
        static void Setup(FakeControlBackend b, ManualTime _)
        {
            b.InterfaceList.Add(new InterfaceStatus("lo", true, 1, "MultiAccess AdminUp LinkUp Loopback Ignored", 65536, [new InterfaceAddress(IpAddr.Parse("127.0.0.1"), 8, true, "host")]));
            b.InterfaceList.Add(new InterfaceStatus("eth0", true, 2, "MultiAccess Broadcast Multicast AdminUp LinkUp", 1500, [new InterfaceAddress(IpAddr.Parse("10.99.0.2"), 24, true, "site")]));
            b.InterfaceList.Add(new InterfaceStatus("pod0", false, 3, "MultiAccess Broadcast Multicast AdminUp LinkUp", 1500, []));
            b.InterfaceList.Add(new InterfaceStatus("cali1a2b3c4d5e6", false, 4, "MultiAccess Broadcast Multicast AdminUp LinkUp", 1500, []));
        }
        Assert.Equal(Transcript.Replies("bird1.6-show-interfaces.txt"), Run("show interfaces", Setup));
        Assert.Equal(Transcript.Replies("bird1.6-show-interfaces-summary.txt"), Run("show interfaces summary", Setup));
    }

    [Fact]
    public void Enable_all_reports_each_protocol_with_continuations()
    {
        var actual = Run("enable all", (b, _) => b.ProtocolList.Single(p => p.Name == "Node_10_99_0_50").Disabled = true);
        Assert.Equal(Transcript.Replies("bird1.6-enable-all.txt"), actual);
    }

    [Fact]
    public void Disable_twice_says_already_disabled()
    {
        var backend = NodeATopology.Build(out var time);
        Transcript.Run(backend, time, "disable Mesh_10_99_0_1");
        Assert.Equal(Transcript.Replies("bird1.6-disable-already.txt"), Transcript.Run(backend, time, "disable Mesh_10_99_0_1"));
        Assert.Equal(["disable Mesh_10_99_0_1", "disable Mesh_10_99_0_1"], backend.Actions);
    }
}
