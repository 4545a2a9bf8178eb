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

    /// <summary>
    /// BIRD's <c>patmatch</c>: <c>*</c> any run, <c>?</c> any one character. Matched greedily with
    /// backtracking only to the last <c>*</c>, so the time is O(pattern × text) whatever the number
    /// of stars: a recursive split per star (BIRD's shape) is exponential, and one request line of
    /// stars pinned a control-session thread (found by fuzzing, docs/reliability.md).
    /// </summary>
    public static bool PatternMatch(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        int p = 0, t = 0, star = -1, resume = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || (pattern[p] != '*' && pattern[p] == text[t])))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                // Let the star match nothing for now; remember where to widen it.
                star = p++;
                resume = t;
            }
            else if (star >= 0)
            {
                // Widen the last star by one character and retry what follows it.
                p = star + 1;
                t = ++resume;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '*')
            p++;
        return p == pattern.Length;
    }
}
