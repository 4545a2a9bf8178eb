using Calico.Bgp.Rib;

namespace Calico.Bgp.Daemon.Control;

/// <summary>
/// BIRD's <c>proto_patt</c>: a protocol name, a shell pattern in double quotes (<c>*</c> and <c>?</c>),
/// or <c>all</c>.
/// </summary>
internal static class ProtocolSelector
{
    /// <summary>
    /// Reads the selector (optional when <paramref name="optional"/>: none means all) and returns the
    /// matching protocols in config order. An unknown name is <c>9002 X is not a protocol</c>; an
    /// empty result is for the caller to answer with <c>8003 No protocols match</c>.
    /// </summary>
    public static List<Protocol> Read(CommandTokens tokens, CommandContext ctx, bool optional, bool allowAll)
    {
        var protocols = ctx.Backend.Protocols;
        if (tokens.AtEnd)
        {
            if (!optional)
                throw CommandSyntaxException.Syntax();
            return [.. protocols];
        }
        var t = tokens.Next();
        if (t.Kind == TokenKind.Text)
            return [.. protocols.Where(p => PatternMatch(t.Value, p.Name))];
        if (allowAll && t.Is("all"))
            return [.. protocols];
        if (t.Kind != TokenKind.Word || IsKeyword(t.Value))
            throw CommandSyntaxException.Syntax();
        var found = ctx.FindProtocol(t.Value) ?? throw new CommandSyntaxException(9002, $"{t.Value} is not a protocol");
        return [found];
    }

    /// <summary>Keywords of the CLI grammar that can never be a symbol there.</summary>
    private static bool IsKeyword(string word) => word.ToLowerInvariant() is "all" or "in" or "out";

    /// <summary>BIRD's <c>patmatch</c>: <c>*</c> any run, <c>?</c> any one character.</summary>
    public static bool PatternMatch(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        while (!pattern.IsEmpty)
        {
            var c = pattern[0];
            if (c == '*')
            {
                pattern = pattern[1..];
                if (pattern.IsEmpty)
                    return true;
                for (var i = 0; i <= text.Length; i++)
                {
                    if (PatternMatch(pattern, text[i..]))
                        return true;
                }
                return false;
            }
            if (text.IsEmpty || (c != '?' && c != text[0]))
                return false;
            pattern = pattern[1..];
            text = text[1..];
        }
        return text.IsEmpty;
    }
}
