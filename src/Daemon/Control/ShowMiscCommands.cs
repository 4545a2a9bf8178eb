using Calico.Bgp.Rib;

namespace Calico.Bgp.Daemon.Control;

/// <summary><c>show interfaces [summary]</c> and <c>show symbols</c>.</summary>
internal static class ShowMiscCommands
{
    public static void Interfaces(CommandTokens tokens, CommandContext ctx)
    {
        var summary = tokens.Accept("summary");
        tokens.ExpectEnd();
        var reply = ctx.Reply;
        if (summary)
            reply.Line(2005, "interface state address");
        foreach (var i in ctx.Backend.Interfaces)
        {
            var state = i.Up ? "up" : "DOWN";
            if (summary)
            {
                var primary = i.Addresses.FirstOrDefault(a => a.Primary);
                reply.Line(1005, $"{i.Name,-9} {state,-5} {(primary is null ? "" : $"{primary.Address}/{primary.PrefixLength}")}");
                continue;
            }
            reply.Line(1001, $"{i.Name} {state} (index={i.Index})");
            reply.Line(1004, $"\t{i.Flags} MTU={i.Mtu}");
            foreach (var a in i.Addresses)
            {
                var opposite = a.Opposite is { } o ? $", opposite {o}" : "";
                reply.Line(1003, $"\t{a.Address}/{a.PrefixLength} ({(a.Primary ? "Primary" : "Secondary")}{opposite}, scope {a.Scope})");
            }
        }
        reply.Final(0, "");
    }

    /// <summary>
    /// <c>show symbols [protocol|filter|function|template|table] | [SYM]</c>: <c>%-8s\t%s</c> lines;
    /// a single symbol is one final <c>1010</c> line.
    /// </summary>
    public static void Symbols(CommandTokens tokens, CommandContext ctx)
    {
        var all = AllSymbols(ctx.Backend);
        if (tokens.AtEnd)
        {
            WriteList(ctx.Reply, all);
            return;
        }
        var t = tokens.Next();
        tokens.ExpectEnd();
        if (t.Kind != TokenKind.Word)
            throw CommandSyntaxException.Syntax();
        var cls = t.Value.ToLowerInvariant() switch
        {
            "protocol" => "protocol",
            "filter" => "filter",
            "function" => "function",
            "template" => "protocol template",
            "table" => "routing table",
            "roa" => "roa table",
            _ => null,
        };
        if (cls is not null)
        {
            WriteList(ctx.Reply, all.Where(s => s.Class == cls));
            return;
        }
        var symbol = all.FirstOrDefault(s => s.Name == t.Value) ?? new ControlSymbol(t.Value, "undefined");
        ctx.Reply.Final(1010, Format(symbol));
    }

    private static void WriteList(ReplyWriter reply, IEnumerable<ControlSymbol> symbols)
    {
        foreach (var s in symbols)
            reply.Line(1010, Format(s));
        reply.Final(0, "");
    }

    private static string Format(ControlSymbol s) => $"{s.Name,-8}\t{s.Class}";

    private static List<ControlSymbol> AllSymbols(IControlBackend backend)
    {
        var list = new List<ControlSymbol>(backend.Symbols);
        foreach (Protocol p in backend.Protocols)
            list.Add(new ControlSymbol(p.Name, "protocol"));
        list.Add(new ControlSymbol(backend.Table.Name, "routing table"));
        return list;
    }
}
