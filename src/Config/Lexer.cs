using System.Globalization;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Config;

/// <summary>
/// Turns BIRD 1.6 configuration text into tokens (BIRD's <c>conf/cf-lex.l</c>): <c>#</c> and
/// <c>/* */</c> comments, double-quoted strings without escapes, single-quoted symbols, decimal and
/// hex numbers, dotted IPv4 and IPv6 literals, and the operators of the filter language.
/// </summary>
internal static class Lexer
{
    /// <summary>BIRD's <c>SYM_MAX_LEN</c>.</summary>
    public const int MaxSymbolLength = 64;

    private static readonly string[] TwoCharOps = ["!=", "<=", ">=", "!~", "&&", "||"];
    private const string SingleCharOps = "{}()[];,=<>~+-*/%!.:?";

    public static List<Token> Tokenize(string text, string file)
    {
        var tokens = new List<Token>();
        // Each distinct word, number, address or operator is one string however often it appears:
        // a config of a thousand neighbours from one template repeats the same few dozen words.
        var texts = new HashSet<string>(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
        var i = 0;
        var line = 1;
        var lineStart = 0;
        SourceLocation Loc(int pos) => new(file, line, pos - lineStart + 1);

        while (true)
        {
            // Whitespace and comments.
            while (i < text.Length)
            {
                var c = text[i];
                if (c == '\n')
                {
                    i++;
                    line++;
                    lineStart = i;
                }
                else if (char.IsWhiteSpace(c))
                {
                    i++;
                }
                else if (c == '#')
                {
                    while (i < text.Length && text[i] != '\n')
                        i++;
                }
                else if (c == '/' && i + 1 < text.Length && text[i + 1] == '*')
                {
                    var start = Loc(i);
                    i += 2;
                    while (i < text.Length && !(text[i] == '*' && i + 1 < text.Length && text[i + 1] == '/'))
                    {
                        if (text[i] == '\n')
                        {
                            line++;
                            lineStart = i + 1;
                        }
                        i++;
                    }
                    if (i >= text.Length)
                        throw new ConfigException(start, "unterminated comment: expected '*/'");
                    i += 2;
                }
                else
                {
                    break;
                }
            }
            if (i >= text.Length)
            {
                tokens.Add(new Token(TokenKind.End, "", Loc(i)));
                return tokens;
            }

            var loc = Loc(i);
            var ch = text[i];

            if (ch == '"' || ch == '\'')
            {
                var end = i + 1;
                while (end < text.Length && text[end] != ch && text[end] != '\n')
                    end++;
                if (end >= text.Length || text[end] != ch)
                    throw new ConfigException(loc, ch == '"' ? "unterminated string: expected '\"' before end of line" : "unterminated quoted symbol: expected \"'\" before end of line");
                var body = text[(i + 1)..end];
                if (ch == '\'')
                {
                    CheckSymbolLength(body, loc);
                    if (body.Length == 0)
                        throw new ConfigException(loc, "empty quoted symbol");
                    tokens.Add(new Token(TokenKind.QuotedSymbol, body, loc));
                }
                else
                {
                    tokens.Add(new Token(TokenKind.String, body, loc));
                }
                i = end + 1;
                continue;
            }

            if (TryIpv6(text, i, loc, out var v6End, out var v6))
            {
                tokens.Add(new Token(TokenKind.Ip6, Intern(texts, text.AsSpan(i, v6End - i)), loc) { Ip = v6 });
                i = v6End;
                continue;
            }

            if (char.IsAsciiDigit(ch))
            {
                i = LexNumberOrIpv4(text, i, loc, tokens, texts);
                continue;
            }

            if (char.IsAsciiLetter(ch) || ch == '_')
            {
                var end = i;
                while (end < text.Length && (char.IsAsciiLetterOrDigit(text[end]) || text[end] == '_'))
                    end++;
                var word = Intern(texts, text.AsSpan(i, end - i));
                CheckSymbolLength(word, loc);
                tokens.Add(new Token(TokenKind.Identifier, word, loc));
                i = end;
                continue;
            }

            if (i + 1 < text.Length)
            {
                if (TwoCharOp(text.AsSpan(i, 2)) is { } two)
                {
                    tokens.Add(new Token(TokenKind.Punct, two, loc));
                    i += 2;
                    continue;
                }
            }
            if (SingleCharOps.Contains(ch))
            {
                tokens.Add(new Token(TokenKind.Punct, Intern(texts, text.AsSpan(i, 1)), loc));
                i++;
                continue;
            }
            throw new ConfigException(loc, $"unexpected character '{ch}'");
        }
    }

    private static void CheckSymbolLength(string symbol, SourceLocation loc)
    {
        if (symbol.Length > MaxSymbolLength)
            throw new ConfigException(loc, $"symbol '{symbol}' is longer than {MaxSymbolLength} characters");
    }

    /// <summary>An IPv6 literal: a run of hex digits, colons and dots holding "::" or two colons.</summary>
    private static bool TryIpv6(string text, int i, SourceLocation loc, out int end, out IpAddr address)
    {
        end = i;
        address = default;
        if (!char.IsAsciiHexDigit(text[i]) && !(text[i] == ':' && i + 1 < text.Length && text[i + 1] == ':'))
            return false;
        while (end < text.Length && (char.IsAsciiHexDigit(text[end]) || text[end] == ':' || text[end] == '.'))
            end++;
        var span = text.AsSpan(i, end - i);
        if (!span.Contains("::", StringComparison.Ordinal) && span.Count(':') < 2)
            return false;
        // Identifiers may follow hex letters (e.g. "add"); only a real address is taken.
        if (end < text.Length && (char.IsAsciiLetter(text[end]) || text[end] == '_'))
            return false;
        if (!IpAddr.TryParse(span, out address) || !address.IsV6)
            throw new ConfigException(loc, $"invalid IPv6 address '{span}'");
        return true;
    }

    private static string? TwoCharOp(ReadOnlySpan<char> two)
    {
        foreach (var op in TwoCharOps)
        {
            if (two.SequenceEqual(op))
                return op;
        }
        return null;
    }

    /// <summary>The pool's string equal to <paramref name="span"/>, added on first sight.</summary>
    private static string Intern(HashSet<string>.AlternateLookup<ReadOnlySpan<char>> texts, ReadOnlySpan<char> span)
    {
        if (!texts.TryGetValue(span, out var s))
        {
            s = span.ToString();
            texts.Add(s);
        }
        return s;
    }

    private static int LexNumberOrIpv4(string text, int i, SourceLocation loc, List<Token> tokens, HashSet<string>.AlternateLookup<ReadOnlySpan<char>> texts)
    {
        var end = i;
        if (text[i] == '0' && i + 1 < text.Length && (text[i + 1] == 'x' || text[i + 1] == 'X'))
        {
            end = i + 2;
            while (end < text.Length && char.IsAsciiHexDigit(text[end]))
                end++;
            if (!long.TryParse(text.AsSpan(i + 2, end - i - 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex) || hex > uint.MaxValue)
                throw new ConfigException(loc, $"invalid number '{text[i..end]}'");
            tokens.Add(new Token(TokenKind.Number, Intern(texts, text.AsSpan(i, end - i)), loc) { Number = hex });
            return end;
        }
        while (end < text.Length && (char.IsAsciiDigit(text[end]) || (text[end] == '.' && end + 1 < text.Length && char.IsAsciiDigit(text[end + 1]))))
            end++;
        var word = Intern(texts, text.AsSpan(i, end - i));
        if (word.Contains('.'))
        {
            if (!IpAddr.TryParse(word, out var v4) || v4.IsV6)
                throw new ConfigException(loc, $"invalid IPv4 address '{word}'");
            tokens.Add(new Token(TokenKind.Ip4, word, loc) { Ip = v4 });
            return end;
        }
        if (!long.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > uint.MaxValue)
            throw new ConfigException(loc, $"number '{word}' is out of range (at most {uint.MaxValue})");
        tokens.Add(new Token(TokenKind.Number, word, loc) { Number = n });
        return end;
    }
}
