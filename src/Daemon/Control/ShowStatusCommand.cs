using System.Diagnostics;

namespace Calico.Bgp.Daemon.Control;

/// <summary><c>show status</c> and <c>show memory</c>.</summary>
internal static class ShowStatusCommand
{
    public static void Status(CommandTokens tokens, CommandContext ctx)
    {
        tokens.ExpectEnd();
        var b = ctx.Backend;
        var zone = ctx.Time.LocalTimeZone;
        var reply = ctx.Reply;
        reply.Line(1000, $"BIRD {b.Version}");
        reply.Line(1011, $"Router ID is {BirdTime.RouterId(b.RouterId)}");
        reply.Line(1011, $"Current server time is {BirdTime.Full(ctx.Time.GetUtcNow(), zone)}");
        reply.Line(1011, $"Last reboot on {BirdTime.Full(b.StartedAt, zone)}");
        reply.Line(1011, $"Last reconfiguration on {BirdTime.Full(b.LastReconfigured, zone)}");
        if (b.GracefulRecovery is { } gr)
        {
            // calico-node's readiness treats any 0024 line as "graceful restart in progress".
            reply.Line(24, "Graceful restart recovery in progress");
            reply.Line(24, $"  Waiting for {gr.ProtocolsWaiting} protocols to recover");
            reply.Line(24, $"  Wait timer is {gr.WaitRemainingSeconds}/{gr.WaitTotalSeconds}");
        }
        reply.Final(13, b.Phase switch
        {
            DaemonPhase.ShuttingDown => "Shutdown in progress",
            DaemonPhase.Reconfiguring => "Reconfiguration in progress",
            _ => "Daemon is up and running",
        });
    }

    /// <summary>
    /// BIRD's layout (<c>1018</c> lines, <c>%-17s %4u %cB</c>) with the managed runtime's numbers:
    /// tables and attributes are estimated from their counts, the total is the GC heap.
    /// </summary>
    public static void Memory(CommandTokens tokens, CommandContext ctx)
    {
        tokens.ExpectEnd();
        var table = ctx.Backend.Table;
        // Rough per-object sizes of a RouteEntry with one route, and of an interned attribute set.
        const long EntryBytes = 160;
        const long AttributeBytes = 240;
        var routes = table.PrefixCount * EntryBytes;
        var attributes = table.Attributes.Count * AttributeBytes;
        var heap = GC.GetTotalMemory(forceFullCollection: false);
        using var self = Process.GetCurrentProcess();
        ctx.Reply.Line(1018, "BIRD memory usage");
        ctx.Reply.Line(1018, Size("Routing tables:", routes));
        ctx.Reply.Line(1018, Size("Route attributes:", attributes));
        ctx.Reply.Line(1018, Size("ROA tables:", 0));
        ctx.Reply.Line(1018, Size("Protocols:", Math.Max(0, heap - routes - attributes)));
        ctx.Reply.Line(1018, Size("Total:", Math.Max(heap, self.WorkingSet64)));
        ctx.Reply.Final(0, "");
    }

    /// <summary>BIRD's <c>print_size</c>: scales by 1024 while the value has five digits or more.</summary>
    internal static string Size(string label, long bytes)
    {
        const string Units = " kMG";
        var i = 0;
        var v = bytes;
        while (v >= 10000 && i < 3)
        {
            v = (v + 512) / 1024;
            i++;
        }
        return $"{label,-17} {v,4} {Units[i]}B";
    }
}
