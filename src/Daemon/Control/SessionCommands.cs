namespace Calico.Bgp.Daemon.Control;

/// <summary><c>configure …</c>, <c>restrict</c>, <c>echo …</c>, <c>down</c>.</summary>
internal static class SessionCommands
{
    /// <summary>
    /// <c>configure [soft] ["file"] [timeout [n]]</c>, <c>configure confirm|undo</c>,
    /// <c>configure check ["file"]</c>; the backend's result lines are written as they are.
    /// </summary>
    public static async ValueTask ConfigureAsync(CommandTokens tokens, CommandContext ctx)
    {
        if (ctx.DenyIfRestricted())
            return;
        ConfigureRequest request;
        if (tokens.Accept("confirm"))
            request = new ConfigureRequest(ConfigureKind.Confirm);
        else if (tokens.Accept("undo"))
            request = new ConfigureRequest(ConfigureKind.Undo);
        else if (tokens.Accept("check"))
            request = new ConfigureRequest(ConfigureKind.Check, ReadFile(tokens));
        else
        {
            var kind = tokens.Accept("soft") ? ConfigureKind.Soft : ConfigureKind.Normal;
            var file = ReadFile(tokens);
            int? timeout = null;
            if (tokens.Accept("timeout"))
            {
                timeout = ConfigureRequest.DefaultTimeoutSeconds;
                if (tokens.Peek is { Kind: TokenKind.Other } n)
                {
                    tokens.Next();
                    if (!int.TryParse(n.Value, System.Globalization.NumberStyles.None, null, out var seconds))
                        throw CommandSyntaxException.Syntax();
                    timeout = seconds;
                }
            }
            request = new ConfigureRequest(kind, file, timeout);
        }
        tokens.ExpectEnd();
        var result = await ctx.Backend.ConfigureAsync(request, ctx.Cancellation).ConfigureAwait(false);
        var lines = result.Lines;
        if (lines.Count == 0)
        {
            ctx.Reply.Final(0, "");
            return;
        }
        for (var i = 0; i < lines.Count - 1; i++)
            ctx.Reply.Line(lines[i].Code, lines[i].Text);
        ctx.Reply.Final(lines[^1].Code, lines[^1].Text);
    }

    private static string? ReadFile(CommandTokens tokens)
    {
        if (tokens.Peek is { Kind: TokenKind.Text } f)
        {
            tokens.Next();
            return f.Value;
        }
        return null;
    }

    public static void Restrict(CommandTokens tokens, CommandContext ctx)
    {
        tokens.ExpectEnd();
        ctx.Session.Restricted = true;
        ctx.Reply.Final(16, "Access restricted");
    }

    /// <summary><c>echo all|off|{debug, trace, info, remote, warning, error, auth} [buffer]</c>.</summary>
    public static void Echo(CommandTokens tokens, CommandContext ctx)
    {
        EchoClasses mask;
        if (tokens.Accept("all"))
            mask = EchoClasses.All;
        else if (tokens.Accept("off"))
            mask = EchoClasses.None;
        else
        {
            mask = (EchoClasses)ProtocolActionCommands.ReadMask(tokens, static word => word switch
            {
                "debug" => (int)EchoClasses.Debug,
                "trace" => (int)EchoClasses.Trace,
                "info" => (int)EchoClasses.Info,
                "remote" => (int)EchoClasses.Remote,
                "warning" => (int)EchoClasses.Warning,
                "error" => (int)EchoClasses.Error,
                "auth" => (int)EchoClasses.Auth,
                "bug" => (int)EchoClasses.Bug,
                _ => -1,
            });
        }
        // The optional buffer size: our per-client queue has a fixed bound, so it is accepted and ignored.
        if (tokens.Peek is { Kind: TokenKind.Other } size && int.TryParse(size.Value, out _))
            tokens.Next();
        tokens.ExpectEnd();
        ctx.Session.Echo = mask;
        ctx.Reply.Final(0, "");
    }

    public static void Down(CommandTokens tokens, CommandContext ctx)
    {
        tokens.ExpectEnd();
        if (ctx.DenyIfRestricted())
            return;
        ctx.Session.CloseAfterReply = true;
        ctx.Session.ShutdownRequested = true;
        ctx.Reply.Final(7, "Shutdown requested");
    }
}
