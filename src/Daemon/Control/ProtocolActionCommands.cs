using Calico.Bgp.Rib;

namespace Calico.Bgp.Daemon.Control;

/// <summary><c>enable|disable|restart P ["msg"]</c>, <c>reload [in|out] P</c>, <c>debug P …</c> (BIRD's <c>proto_apply_cmd</c>).</summary>
internal static class ProtocolActionCommands
{
    public enum Action
    {
        Enable,
        Disable,
        Restart,
    }

    public static async ValueTask EnableDisableRestartAsync(Action action, CommandTokens tokens, CommandContext ctx)
    {
        if (ctx.DenyIfRestricted())
            return;
        var protocols = ProtocolSelector.Read(tokens, ctx, optional: false, allowAll: true);
        string? message = null;
        if (tokens.Peek is { Kind: TokenKind.Text } m)
        {
            tokens.Next();
            message = m.Value;
        }
        tokens.ExpectEnd();
        if (protocols.Count == 0)
        {
            ctx.Reply.Final(8003, "No protocols match");
            return;
        }
        foreach (var p in protocols)
        {
            var result = action switch
            {
                Action.Enable => await ctx.Backend.EnableAsync(p, message, ctx.Cancellation).ConfigureAwait(false),
                Action.Disable => await ctx.Backend.DisableAsync(p, message, ctx.Cancellation).ConfigureAwait(false),
                _ => await ctx.Backend.RestartAsync(p, message, ctx.Cancellation).ConfigureAwait(false),
            };
            WriteResult(ctx.Reply, p, result, action switch
            {
                Action.Enable => (11, "enabled"),
                Action.Disable => (9, "disabled"),
                _ => (12, "restarted"),
            });
        }
        ctx.Reply.Final(0, "");
    }

    public static async ValueTask ReloadAsync(CommandTokens tokens, CommandContext ctx)
    {
        if (ctx.DenyIfRestricted())
            return;
        var direction = tokens.Accept("in") ? ReloadDirection.In : tokens.Accept("out") ? ReloadDirection.Out : ReloadDirection.Both;
        var protocols = ProtocolSelector.Read(tokens, ctx, optional: false, allowAll: true);
        tokens.ExpectEnd();
        if (protocols.Count == 0)
        {
            ctx.Reply.Final(8003, "No protocols match");
            return;
        }
        foreach (var p in protocols)
        {
            var result = await ctx.Backend.ReloadAsync(p, direction, ctx.Cancellation).ConfigureAwait(false);
            WriteResult(ctx.Reply, p, result, (15, "reloading"));
        }
        ctx.Reply.Final(0, "");
    }

    public static void Debug(CommandTokens tokens, CommandContext ctx)
    {
        if (ctx.DenyIfRestricted())
            return;
        var protocols = ProtocolSelector.Read(tokens, ctx, optional: false, allowAll: true);
        var flags = ReadDebugMask(tokens);
        tokens.ExpectEnd();
        if (protocols.Count == 0)
        {
            ctx.Reply.Final(8003, "No protocols match");
            return;
        }
        foreach (var p in protocols)
            ctx.Backend.SetDebug(p, flags);
        ctx.Reply.Final(0, "");
    }

    /// <summary><c>all</c> | <c>off</c> | <c>{ states, routes, filters, interfaces, events, packets }</c>.</summary>
    private static ProtocolDebug ReadDebugMask(CommandTokens tokens)
    {
        if (tokens.Accept("all"))
            return ProtocolDebug.All;
        if (tokens.Accept("off"))
            return ProtocolDebug.None;
        return (ProtocolDebug)ReadMask(tokens, static word => word switch
        {
            "states" => (int)ProtocolDebug.States,
            "routes" => (int)ProtocolDebug.Routes,
            "filters" => (int)ProtocolDebug.Filters,
            "interfaces" => (int)ProtocolDebug.Interfaces,
            "events" => (int)ProtocolDebug.Events,
            "packets" => (int)ProtocolDebug.Packets,
            _ => -1,
        });
    }

    /// <summary>A <c>{ word, word }</c> mask; words are mapped to bits by <paramref name="bit"/> (-1 = unknown).</summary>
    public static int ReadMask(CommandTokens tokens, Func<string, int> bit)
    {
        if (tokens.Next() is not { Kind: TokenKind.Other, Value: "{" })
            throw CommandSyntaxException.Syntax();
        var mask = 0;
        while (true)
        {
            var t = tokens.Next();
            var b = t.Kind == TokenKind.Word ? bit(t.Value.ToLowerInvariant()) : -1;
            if (b < 0)
                throw CommandSyntaxException.Syntax();
            mask |= b;
            var sep = tokens.Next();
            if (sep.Value == "}")
                return mask;
            if (sep.Value != ",")
                throw CommandSyntaxException.Syntax();
        }
    }

    private static void WriteResult(ReplyWriter reply, Protocol p, ProtocolActionResult result, (int Code, string Word) done)
    {
        switch (result)
        {
            case ProtocolActionResult.Done:
                reply.Line(done.Code, $"{p.Name}: {done.Word}");
                break;
            case ProtocolActionResult.AlreadyEnabled:
                reply.Line(10, $"{p.Name}: already enabled");
                break;
            case ProtocolActionResult.AlreadyDisabled:
                reply.Line(8, $"{p.Name}: already disabled");
                break;
            case ProtocolActionResult.Failed:
                reply.Line(8006, $"{p.Name}: reload failed");
                break;
            case ProtocolActionResult.NotUp:
                break;
        }
    }
}
