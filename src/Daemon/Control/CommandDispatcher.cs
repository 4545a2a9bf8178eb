namespace Calico.Bgp.Daemon.Control;

/// <summary>
/// Parses one request line and runs the command. Like BIRD's socket, only full keywords are
/// understood (<c>sh pro</c> is <c>9001 syntax error</c>); clients expand abbreviations.
/// </summary>
internal static class CommandDispatcher
{
    /// <summary>A run-time error code (8xxx, so clients report failure) for a backend exception.</summary>
    public const int InternalErrorCode = 8000;

    public static async ValueTask ExecuteAsync(string line, CommandContext ctx)
    {
        ctx.Reply.BeginReply();
        try
        {
            var tokens = CommandTokens.Parse(line);
            if (tokens.AtEnd)
                throw CommandSyntaxException.Syntax();
            var first = tokens.Next();
            if (first.Kind != TokenKind.Word)
                throw CommandSyntaxException.Syntax();
            switch (first.Value.ToLowerInvariant())
            {
                case "show":
                    await ShowAsync(tokens, ctx).ConfigureAwait(false);
                    break;
                case "configure":
                    await SessionCommands.ConfigureAsync(tokens, ctx).ConfigureAwait(false);
                    break;
                case "enable":
                    await ProtocolActionCommands.EnableDisableRestartAsync(ProtocolActionCommands.Action.Enable, tokens, ctx).ConfigureAwait(false);
                    break;
                case "disable":
                    await ProtocolActionCommands.EnableDisableRestartAsync(ProtocolActionCommands.Action.Disable, tokens, ctx).ConfigureAwait(false);
                    break;
                case "restart":
                    await ProtocolActionCommands.EnableDisableRestartAsync(ProtocolActionCommands.Action.Restart, tokens, ctx).ConfigureAwait(false);
                    break;
                case "reload":
                    await ProtocolActionCommands.ReloadAsync(tokens, ctx).ConfigureAwait(false);
                    break;
                case "debug":
                    ProtocolActionCommands.Debug(tokens, ctx);
                    break;
                case "restrict":
                    SessionCommands.Restrict(tokens, ctx);
                    break;
                case "echo":
                    SessionCommands.Echo(tokens, ctx);
                    break;
                case "down":
                    SessionCommands.Down(tokens, ctx);
                    break;
                default:
                    throw CommandSyntaxException.Syntax();
            }
        }
        catch (CommandSyntaxException e)
        {
            // A parse error may come after part of a reply was buffered (never for BIRD's replies,
            // which parse fully first); the error line still ends the reply.
            ctx.Reply.Final(e.Code, e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A failing backend must not kill the session or leave the client waiting for a final line.
            ctx.Reply.Final(InternalErrorCode, $"Internal error: {e.Message}");
        }
        if (!ctx.Reply.Finished)
            ctx.Reply.Final(0, "");
    }

    private static async ValueTask ShowAsync(CommandTokens tokens, CommandContext ctx)
    {
        var what = tokens.Next();
        if (what.Kind != TokenKind.Word)
            throw CommandSyntaxException.Syntax();
        switch (what.Value.ToLowerInvariant())
        {
            case "status":
                ShowStatusCommand.Status(tokens, ctx);
                break;
            case "memory":
                ShowStatusCommand.Memory(tokens, ctx);
                break;
            case "protocols":
                ShowProtocolsCommand.Execute(tokens, ctx);
                break;
            case "route":
                await ShowRouteCommand.ExecuteAsync(tokens, ctx).ConfigureAwait(false);
                break;
            case "interfaces":
                ShowMiscCommands.Interfaces(tokens, ctx);
                break;
            case "symbols":
                ShowMiscCommands.Symbols(tokens, ctx);
                break;
            default:
                throw CommandSyntaxException.Syntax();
        }
    }
}
