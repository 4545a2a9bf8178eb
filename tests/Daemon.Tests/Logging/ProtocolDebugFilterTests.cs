using Calico.Bgp.Config;
using Calico.Bgp.Daemon.Control;
using Calico.Bgp.Daemon.Logging;
using Calico.Bgp.Daemon.Tests.Control;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Tests.Logging;

/// <summary>BIRD's per-protocol <c>debug { … }</c> applied to the protocol's log category.</summary>
public class ProtocolDebugFilterTests
{
    private static readonly EventId Route = new(2000, "RouteImported");
    private static readonly EventId Packet = new(6001, "UpdateReceived");
    private static readonly EventId Unclassified = new(0);

    private static (CaptureProvider Capture, ProtocolDebugLoggerProvider Provider, ProtocolDebugSwitch Debug) Build()
    {
        var capture = new CaptureProvider();
        var debug = new ProtocolDebugSwitch();
        return (capture, new ProtocolDebugLoggerProvider(capture, debug), debug);
    }

    [Fact]
    public void Debug_off_lets_only_information_and_above_through()
    {
        var (capture, provider, _) = Build();
        var log = provider.CreateLogger(ProtocolLogEvents.Category("Mesh_10_0_0_2"));
        log.LogDebug(ProtocolLogEvents.ProtocolStateChanged, "state");
        log.LogTrace(Packet, "packet");
        log.LogInformation("established");
        log.LogWarning("notification");
        Assert.Equal(["established", "notification"], capture.Messages);
        Assert.False(log.IsEnabled(LogLevel.Debug));
        Assert.True(log.IsEnabled(LogLevel.Information));
    }

    [Fact]
    public void Each_flag_passes_the_debug_messages_of_its_class_only()
    {
        var (capture, provider, debug) = Build();
        debug["Mesh_10_0_0_2"] = ProtocolDebug.States | ProtocolDebug.Packets;
        var log = provider.CreateLogger(ProtocolLogEvents.Category("Mesh_10_0_0_2"));
        log.LogDebug(ProtocolLogEvents.ProtocolStateChanged, "state");
        log.LogDebug(ProtocolLogEvents.BgpStateChanged, "fsm");
        log.LogDebug(Route, "route");
        log.LogDebug(Packet, "packet");
        log.LogDebug(Unclassified, "unclassified");
        Assert.Equal(["state", "fsm", "packet"], capture.Messages);
        Assert.True(log.IsEnabled(LogLevel.Debug));
    }

    [Fact]
    public void Debug_all_passes_everything_including_unclassified_debug()
    {
        var (capture, provider, debug) = Build();
        debug["kernel1"] = ProtocolDebug.All;
        var log = provider.CreateLogger(ProtocolLogEvents.Category("kernel1"));
        log.LogDebug(Route, "route");
        log.LogTrace(Unclassified, "unclassified");
        Assert.Equal(["route", "unclassified"], capture.Messages);
    }

    [Fact]
    public void Flags_change_for_loggers_already_handed_out_and_stay_per_protocol()
    {
        var (capture, provider, debug) = Build();
        var a = provider.CreateLogger(ProtocolLogEvents.Category("a"));
        var b = provider.CreateLogger(ProtocolLogEvents.Category("b"));
        debug.Reset([("a", ProtocolDebug.Routes), ("b", ProtocolDebug.None)]);
        a.LogDebug(Route, "a route");
        b.LogDebug(Route, "b route");
        // A reload that switches a off and b on, and drops c from the config.
        debug["c"] = ProtocolDebug.All;
        debug.Reset([("a", ProtocolDebug.None), ("b", SwitchFromConfig(DebugFlags.Routes))]);
        a.LogDebug(Route, "a route again");
        b.LogDebug(Route, "b route again");
        Assert.Equal(["a route", "b route again"], capture.Messages);
        Assert.Equal(ProtocolDebug.None, debug["c"]);
    }

    [Fact]
    public void Other_categories_are_not_touched()
    {
        var (capture, provider, _) = Build();
        provider.CreateLogger("daemon").LogDebug(Route, "daemon debug");
        // The prefix alone names no protocol.
        provider.CreateLogger(ProtocolLogEvents.CategoryPrefix).LogDebug("prefix debug");
        Assert.Equal(["daemon debug", "prefix debug"], capture.Messages);
    }

    [Fact]
    public void Config_flags_map_bit_for_bit()
    {
        foreach (var (config, control) in new[]
        {
            (DebugFlags.States, ProtocolDebug.States), (DebugFlags.Routes, ProtocolDebug.Routes), (DebugFlags.Filters, ProtocolDebug.Filters),
            (DebugFlags.Interfaces, ProtocolDebug.Interfaces), (DebugFlags.Events, ProtocolDebug.Events), (DebugFlags.Packets, ProtocolDebug.Packets),
            (DebugFlags.All, ProtocolDebug.All), (DebugFlags.None, ProtocolDebug.None),
        })
        {
            Assert.Equal(control, ProtocolDebugSwitch.FromConfig(config));
        }
    }

    [Fact]
    public void A_protocol_logs_under_its_own_category_whatever_it_asks_for()
    {
        var capture = new CaptureProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(capture).SetMinimumLevel(LogLevel.Trace));
        var protocolFactory = new ProtocolLoggerFactory(factory, "Node_10_0_0_3");
        protocolFactory.CreateLogger("Calico.Bgp.Speaker.Node_10_0_0_3").LogInformation("up");
        protocolFactory.CreateLogger("Calico.Bgp.Fib.Kernel").LogInformation("scan");
        Assert.Equal(["Calico.Bgp.Protocol.Node_10_0_0_3", "Calico.Bgp.Protocol.Node_10_0_0_3"], capture.Lines.Select(l => l.Category));
    }

    [Theory]
    [InlineData(999, ProtocolDebug.None)]
    [InlineData(1000, ProtocolDebug.States)]
    [InlineData(1999, ProtocolDebug.States)]
    [InlineData(2000, ProtocolDebug.Routes)]
    [InlineData(2999, ProtocolDebug.Routes)]
    [InlineData(3000, ProtocolDebug.Filters)]
    [InlineData(4000, ProtocolDebug.Interfaces)]
    [InlineData(5000, ProtocolDebug.Events)]
    [InlineData(6000, ProtocolDebug.Packets)]
    [InlineData(6999, ProtocolDebug.Packets)]
    [InlineData(7000, ProtocolDebug.None)]
    public void Each_event_id_range_is_one_class_and_only_that_flag_passes_it(int id, ProtocolDebug cls)
    {
        Assert.Equal(cls, ProtocolLogEvents.ClassOf(new EventId(id)));
        foreach (var flag in new[] { ProtocolDebug.States, ProtocolDebug.Routes, ProtocolDebug.Filters, ProtocolDebug.Interfaces, ProtocolDebug.Events, ProtocolDebug.Packets })
        {
            var (capture, provider, debug) = Build();
            debug["bgp1"] = flag;
            provider.CreateLogger(ProtocolLogEvents.Category("bgp1")).LogDebug(new EventId(id), "line");
            Assert.Equal(flag == cls ? ["line"] : [], capture.Messages);
        }
    }

    [Fact]
    public void The_ids_protocols_use_fall_in_their_classes()
    {
        Assert.Equal(ProtocolDebug.States, ProtocolLogEvents.ClassOf(ProtocolEvents.BgpStateChanged));
        Assert.Equal(ProtocolDebug.Routes, ProtocolLogEvents.ClassOf(ProtocolEvents.RouteExportWithdrawn));
        Assert.Equal(ProtocolDebug.Filters, ProtocolLogEvents.ClassOf(ProtocolEvents.ExportRejected));
        Assert.Equal(ProtocolDebug.Interfaces, ProtocolLogEvents.ClassOf(ProtocolEvents.AddressChanged));
        Assert.Equal(ProtocolDebug.Events, ProtocolLogEvents.ClassOf(ProtocolEvents.Scan));
        Assert.Equal(ProtocolDebug.Packets, ProtocolLogEvents.ClassOf(ProtocolEvents.PacketReceived));
    }

    [Fact]
    public void A_class_logger_is_enabled_only_while_its_class_is_on_and_writes_under_the_protocol()
    {
        var (capture, provider, debug) = Build();
        using var factory = LoggerFactory.Create(b => b.AddProvider(provider).SetMinimumLevel(LogLevel.Trace));
        var trace = new ProtocolTrace(new ProtocolLoggerFactory(factory, "bgp1", debug));
        debug["bgp1"] = ProtocolDebug.States | ProtocolDebug.Packets;
        Assert.True(trace.States.IsEnabled(LogLevel.Debug));
        Assert.True(trace.Packets.IsEnabled(LogLevel.Debug));
        Assert.False(trace.Routes.IsEnabled(LogLevel.Debug));
        Assert.False(trace.Filters.IsEnabled(LogLevel.Debug));
        Assert.False(trace.Interfaces.IsEnabled(LogLevel.Debug));
        Assert.False(trace.Events.IsEnabled(LogLevel.Debug));
        // Information is never a debug class's to hold back.
        Assert.True(trace.Routes.IsEnabled(LogLevel.Information));

        // The `debug bgp1 off` command: every class goes quiet at once, loggers already handed out included.
        debug["bgp1"] = ProtocolDebug.None;
        Assert.False(trace.States.IsEnabled(LogLevel.Debug));
        Assert.False(trace.Packets.IsEnabled(LogLevel.Debug));
        debug["bgp1"] = ProtocolDebug.All;
        Assert.True(trace.Routes.IsEnabled(LogLevel.Debug));
        trace.Packets.LogDebug(ProtocolEvents.PacketSent, "bgp1: Sending KEEPALIVE (19 bytes)");
        Assert.Equal([(ProtocolLogEvents.Category("bgp1"), LogLevel.Debug, "bgp1: Sending KEEPALIVE (19 bytes)")], capture.Lines.Select(l => (l.Category, l.Level, l.Message)));
    }

    [Fact]
    public void A_protocol_gets_its_category_logger_at_its_first_message_and_one_for_all_its_loggers()
    {
        var capture = new CaptureProvider();
        var debug = new ProtocolDebugSwitch();
        using var factory = LoggerFactory.Create(b => b.AddProvider(capture).SetMinimumLevel(LogLevel.Trace));
        var loggers = new ProtocolLoggerFactory(factory, "Mesh_10_0_0_2", debug);
        var trace = new ProtocolTrace(loggers);
        var log = loggers.CreateLogger("Calico.Bgp.Speaker.Mesh_10_0_0_2");
        // Built and asked about a class that is off: no logger made yet (a neighbour that never comes up needs none).
        Assert.False(trace.Routes.IsEnabled(LogLevel.Debug));
        Assert.Empty(capture.Created);

        log.LogInformation("Mesh_10_0_0_2: session established");
        debug["Mesh_10_0_0_2"] = ProtocolDebug.States;
        trace.States.LogDebug(ProtocolEvents.BgpStateChanged, "Mesh_10_0_0_2: BGP state changed from OpenConfirm to Established");
        Assert.Equal([ProtocolLogEvents.Category("Mesh_10_0_0_2")], capture.Created);
        Assert.Equal(["Mesh_10_0_0_2: session established", "Mesh_10_0_0_2: BGP state changed from OpenConfirm to Established"], capture.Messages);
    }

    [Fact]
    public void Without_the_switch_the_protocol_factory_hands_out_plain_loggers()
    {
        var capture = new CaptureProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(capture).SetMinimumLevel(LogLevel.Trace));
        var trace = new ProtocolTrace(new ProtocolLoggerFactory(factory, "kernel1"));
        trace.Routes.LogDebug(ProtocolEvents.RouteExported, "route");
        Assert.Equal([("Calico.Bgp.Protocol.kernel1", "route")], capture.Lines.Select(l => (l.Category, l.Message)));
    }

    [Fact]
    public void SetState_writes_each_change_as_it_happens_for_a_protocol_with_states_and_nothing_for_one_without()
    {
        var time = new ManualTime(ManualTime.At("10:00:00"));
        var table = new RoutingTable("master");
        var (capture, provider, debug) = Build();
        debug["static1"] = ProtocolDebug.States;
        debug["static2"] = ProtocolDebug.Routes;
        using var factory = LoggerFactory.Create(b => b.AddProvider(provider).SetMinimumLevel(LogLevel.Trace));
        var traced = new FakeProtocol("static1", "Static", table, time, 200) { DebugTrace = new ProtocolTrace(new ProtocolLoggerFactory(factory, "static1", debug)) };
        var quiet = new FakeProtocol("static2", "Static", table, time, 200) { DebugTrace = new ProtocolTrace(new ProtocolLoggerFactory(factory, "static2", debug)) };
        foreach (var state in new[] { ProtocolState.Start, ProtocolState.Up, ProtocolState.Up, ProtocolState.Stop, ProtocolState.Down })
        {
            traced.Set(state);
            quiet.Set(state);
        }
        // Every state is seen, the passing ones too, and a repeated one once.
        Assert.Equal(["static1: State changed to start", "static1: State changed to up", "static1: State changed to stop", "static1: State changed to down"], capture.Messages);
        Assert.All(capture.Lines, l => Assert.Equal((ProtocolLogEvents.Category("static1"), LogLevel.Debug, ProtocolEvents.ProtocolStateChanged.Id), (l.Category, l.Level, l.EventId.Id)));
    }

    private static ProtocolDebug SwitchFromConfig(DebugFlags flags) => ProtocolDebugSwitch.FromConfig(flags);
}
