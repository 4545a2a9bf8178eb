using System.Globalization;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Daemon.Control;

/// <summary><c>show protocols [all] [NAME | "pattern"]</c>, BIRD 1.6's <c>proto_cmd_show</c>.</summary>
internal static class ShowProtocolsCommand
{
    /// <summary>The heading, exactly: Calico's parsers compare its fields with this text.</summary>
    public const string Heading = "name     proto    table    state  since       info";

    public static void Execute(CommandTokens tokens, CommandContext ctx)
    {
        var verbose = tokens.Accept("all");
        var protocols = ProtocolSelector.Read(tokens, ctx, optional: true, allowAll: false);
        tokens.ExpectEnd();
        if (protocols.Count == 0)
        {
            ctx.Reply.Final(8003, "No protocols match");
            return;
        }
        var now = ctx.Time.GetUtcNow();
        var preferred = verbose ? CountPreferred(ctx.Backend.Table) : null;
        var recovering = ctx.Backend.GracefulRecovery is not null;
        ctx.Reply.Line(2002, Heading);
        foreach (var p in protocols)
        {
            var detail = ctx.Backend.Describe(p);
            ctx.Reply.Line(1002, Row(p, detail, now, ctx.Time.LocalTimeZone));
            if (verbose)
                WriteDetail(ctx.Reply, p, detail, recovering, preferred!.GetValueOrDefault(p));
        }
        ctx.Reply.Final(0, "");
    }

    /// <summary><c>"%-8s %-8s %-8s %-5s  %-10s  %s"</c>: name, type, table, state, since, info.</summary>
    public static string Row(Protocol p, ProtocolDetail detail, DateTimeOffset now, TimeZoneInfo zone) =>
        string.Format(CultureInfo.InvariantCulture, "{0,-8} {1,-8} {2,-8} {3,-5}  {4,-10}  {5}",
            p.Name, p.TypeName, p.Table.Name, StateWord(p, detail), BirdTime.Short(p.StateSince, now, zone), Info(p, detail));

    /// <summary>
    /// BIRD's <c>bgp_get_status</c> prints a BGP protocol that is not down as <c>"%-14s%s%s"</c>, so
    /// an Established session without an error still carries the padding (<c>Established␠␠␠</c>);
    /// a protocol may hand us its state already trimmed.
    /// </summary>
    private static string Info(Protocol p, ProtocolDetail detail)
    {
        const int StateWidth = 14;
        var info = detail.Info ?? p.Info;
        return p.TypeName == "BGP" && p.State != ProtocolState.Down && info.Length < StateWidth ? info.PadRight(StateWidth) : info;
    }

    /// <summary>BIRD 1.6's <c>proto_state_name</c>.</summary>
    public static string StateWord(Protocol p, ProtocolDetail detail) => detail.StateWord ?? p.State switch
    {
        ProtocolState.Down => "down",
        ProtocolState.Start => "start",
        ProtocolState.Up => "up",
        ProtocolState.Stop => "stop",
        _ => "???",
    };

    private static void WriteDetail(ReplyWriter reply, Protocol p, ProtocolDetail d, bool recovering, long preferred)
    {
        const int Code = 1006;
        if (d.Description is not null)
            reply.Line(Code, $"  Description:    {d.Description}");
        if (d.Message is not null)
            reply.Line(Code, $"  Message:        {d.Message}");
        if (d.RouterId is { } rid)
            reply.Line(Code, $"  Router ID:      {BirdTime.RouterId(rid)}");
        reply.Line(Code, $"  Preference:     {p.Preference}");
        reply.Line(Code, $"  Input filter:   {d.ImportFilter}");
        reply.Line(Code, $"  Output filter:  {d.ExportFilter}");
        if (recovering)
        {
            // BIRD prints the label even for protocols that hold no lock: "  GR recovery:   ".
            reply.Line(Code, "  GR recovery:   " + (d.GracefulRecoveryPending ? " pending" : "") + (d.GracefulRecoveryWaiting ? " waiting" : ""));
        }
        WriteLimit(reply, "Import limit:", d.ImportLimit);
        if (p.State != ProtocolState.Down)
            WriteStats(reply, p.Stats, d, preferred);
        foreach (var line in d.ExtraLines)
            reply.Line(Code, line);
        reply.Line(Code, "");
    }

    /// <summary>BIRD 1.6's <c>proto_show_limit</c>: the label padded to 16, the limit, <c>[HIT]</c> once hit; then the action.</summary>
    private static void WriteLimit(ReplyWriter reply, string label, ProtocolLimit? limit)
    {
        const int Code = 1006;
        if (limit is null)
            return;
        reply.Line(Code, $"  {label,-16}{limit.Limit}{(limit.Hit ? " [HIT]" : "")}");
        reply.Line(Code, $"    Action:       {limit.Action}");
    }

    /// <summary>BIRD 1.6's <c>proto_show_stats</c>.</summary>
    private static void WriteStats(ReplyWriter reply, ProtocolStats s, ProtocolDetail d, long preferred)
    {
        const int Code = 1006;
        reply.Line(Code, d.KeepFiltered
            ? $"  Routes:         {s.Imported} imported, {s.Filtered} filtered, {s.Exported} exported, {preferred} preferred"
            : $"  Routes:         {s.Imported} imported, {s.Exported} exported, {preferred} preferred");
        var t = d.RouteStats ?? RouteChangeStats.From(s);
        reply.Line(Code, "  Route change stats:     received   rejected   filtered    ignored   accepted");
        reply.Line(Code, $"    Import updates:     {t.ImportUpdatesReceived,10} {t.ImportUpdatesRejected,10} {t.ImportUpdatesFiltered,10} {t.ImportUpdatesIgnored,10} {t.ImportUpdatesAccepted,10}");
        reply.Line(Code, $"    Import withdraws:   {t.ImportWithdrawsReceived,10} {t.ImportWithdrawsRejected,10}        --- {t.ImportWithdrawsIgnored,10} {t.ImportWithdrawsAccepted,10}");
        reply.Line(Code, $"    Export updates:     {t.ExportUpdatesReceived,10} {t.ExportUpdatesRejected,10} {t.ExportUpdatesFiltered,10}        --- {t.ExportUpdatesAccepted,10}");
        reply.Line(Code, $"    Export withdraws:   {t.ExportWithdrawsReceived,10}        ---        ---        --- {t.ExportWithdrawsAccepted,10}");
    }

    /// <summary>Routes each protocol has as best route of their prefix (BIRD's <c>pref_routes</c>), in one pass.</summary>
    private static Dictionary<Protocol, long> CountPreferred(RoutingTable table)
    {
        var counts = new Dictionary<Protocol, long>(ReferenceEqualityComparer.Instance);
        foreach (var entry in table.Entries)
        {
            if (entry.Best is { } best)
                counts[best.Protocol] = counts.GetValueOrDefault(best.Protocol) + 1;
        }
        return counts;
    }
}
