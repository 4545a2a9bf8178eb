using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Session;
using Calico.Bgp.Speaker.Wire;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Speaker;

/// <summary>
/// BIRD's per-protocol debug lines for BGP (<c>debug { states, routes, filters, events, packets }</c>),
/// each written through the <see cref="Protocol.Trace"/> logger of its class. Every method checks
/// <see cref="ILogger.IsEnabled"/> first, so with the class off a call costs one check and builds
/// nothing; per-route callers check before looping.
/// </summary>
public sealed partial class BgpProtocol
{
    /// <summary>The FSM's transition, as it happens (<see cref="BgpFsm.StateChanged"/>).</summary>
    private void TraceBgpState(BgpState from, BgpState to)
    {
        if (Trace.States.IsEnabled(LogLevel.Debug))
            Trace.States.LogDebug(ProtocolEvents.BgpStateChanged, "{Protocol}: BGP state changed from {From} to {To}", Name, from, to);
    }

    /// <summary>An FSM timer fired (<see cref="BgpFsm.TimerExpired"/>).</summary>
    private void TraceTimer(FsmEventKind timer)
    {
        if (!Trace.Events.IsEnabled(LogLevel.Debug))
            return;
        var what = timer switch
        {
            FsmEventKind.HoldTimerExpires => "Hold timer expired",
            FsmEventKind.SendHoldTimerExpires => "Send hold timer expired",
            _ => "Connect timer expired",
        };
        Trace.Events.LogDebug(ProtocolEvents.TimerExpired, "{Protocol}: {Timer}", Name, what);
    }

    private void TraceEvent(EventId id, string text)
    {
        if (Trace.Events.IsEnabled(LogLevel.Debug))
            Trace.Events.LogDebug(id, "{Protocol}: {Event}", Name, text);
    }

    /// <summary>One message of ours or the neighbour's, by BIRD's name of its type and its length with the header.</summary>
    internal static void TracePacket(ILogger packets, string protocol, bool sent, MessageType type, int length)
    {
        if (!packets.IsEnabled(LogLevel.Debug))
            return;
        if (sent)
            packets.LogDebug(ProtocolEvents.PacketSent, "{Protocol}: Sending {Type} ({Length} bytes)", protocol, MessageName(type), length);
        else
            packets.LogDebug(ProtocolEvents.PacketReceived, "{Protocol}: Got {Type} ({Length} bytes)", protocol, MessageName(type), length);
    }

    /// <summary>The type as BIRD's packet traces spell it.</summary>
    internal static string MessageName(MessageType type) => type switch
    {
        MessageType.Open => "OPEN",
        MessageType.Update => "UPDATE",
        MessageType.Notification => "NOTIFICATION",
        MessageType.Keepalive => "KEEPALIVE",
        MessageType.RouteRefresh => "ROUTE-REFRESH",
        _ => "message type " + (byte)type,
    };

    /// <summary>A received path's fate in the table: <c>added</c>, <c>updated</c>, <c>ignored</c> or <c>removed</c> (BIRD's "&gt;" lines).</summary>
    private void TraceImport(string what, Prefix prefix, PathAttributes? attrs)
    {
        if (!Trace.Routes.IsEnabled(LogLevel.Debug))
            return;
        var id = what == "removed" ? ProtocolEvents.RouteWithdrawn : ProtocolEvents.RouteImported;
        if (attrs?.NextHop is { } via)
            Trace.Routes.LogDebug(id, "{Protocol} > {What} {Prefix} via {NextHop}", Name, what, prefix, via);
        else
            Trace.Routes.LogDebug(id, "{Protocol} > {What} {Prefix}", Name, what, prefix);
    }

    /// <summary>The import filter's verdict on one received path; an <c>import all</c> has none to tell.</summary>
    private void TraceImportFilter(Prefix prefix, bool accepted)
    {
        if (ReferenceEquals(Options.ImportFilter, RouteFilter.AcceptAll) && accepted || !Trace.Filters.IsEnabled(LogLevel.Debug))
            return;
        Trace.Filters.LogDebug(ProtocolEvents.ImportFiltered, "{Protocol} > {Verdict} {Prefix}", Name, accepted ? "accepted by import filter" : "filtered out", prefix);
    }

    /// <summary>
    /// One export refused for this peer: by the export filter (<c>filtered out</c>) or by the
    /// session's own rules before it (<c>rejected by protocol</c>, BIRD's import control).
    /// </summary>
    /// <summary>Whether <see cref="TraceExportRefused"/> logs anything (an update group asks once per pass, not per route and member).</summary>
    internal bool TracesExportRefusals => Trace.Filters.IsEnabled(LogLevel.Debug);

    internal void TraceExportRefused(Prefix prefix, bool byFilter)
    {
        if (!Trace.Filters.IsEnabled(LogLevel.Debug))
            return;
        if (byFilter)
            Trace.Filters.LogDebug(ProtocolEvents.ExportFiltered, "{Protocol} < filtered out {Prefix}", Name, prefix);
        else
            Trace.Filters.LogDebug(ProtocolEvents.ExportRejected, "{Protocol} < rejected by protocol {Prefix}", Name, prefix);
    }

    /// <summary>Paths queued to the neighbour in one batch: announced with <paramref name="attrs"/>, or withdrawn.</summary>
    internal void TraceExport(bool withdraw, List<Nlri> nlri, PathAttributes? attrs)
    {
        if (!Trace.Routes.IsEnabled(LogLevel.Debug))
            return;
        foreach (var n in nlri)
        {
            if (withdraw)
                Trace.Routes.LogDebug(ProtocolEvents.RouteExportWithdrawn, "{Protocol} < removed {Prefix}", Name, n.Prefix);
            else if (attrs?.NextHop is { } via)
                Trace.Routes.LogDebug(ProtocolEvents.RouteExported, "{Protocol} < added {Prefix} via {NextHop}", Name, n.Prefix, via);
            else
                Trace.Routes.LogDebug(ProtocolEvents.RouteExported, "{Protocol} < added {Prefix}", Name, n.Prefix);
        }
    }

    /// <summary>Our End-of-RIB queued to the neighbour (RFC 4724 §2).</summary>
    internal void TraceEndOfRibSent() => TraceEvent(ProtocolEvents.EndOfRib, "Sending End-of-RIB");
}
