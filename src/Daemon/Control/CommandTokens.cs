namespace Calico.Bgp.Daemon.Control;

internal enum TokenKind
{
    /// <summary>A keyword or symbol: letters, digits and <c>_</c>, starting with a letter or <c>_</c>.</summary>
    Word,
    /// <summary>A double-quoted string (BIRD's TEXT), quotes removed.</summary>
    Text,
    /// <summary>Anything else: numbers, addresses, prefixes, punctuation.</summary>
    Other,
}

internal readonly record struct Token(TokenKind Kind, string Value, int Offset)
{
    public bool Is(string keyword) => Kind == TokenKind.Word && Value.Equals(keyword, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Thrown by command parsing; becomes a <c>9001</c>/<c>9002</c> reply.</summary>
internal sealed class CommandSyntaxException(int code, string message) : Exception(message)
{
    public int Code { get; } = code;

    public static CommandSyntaxException Syntax() => new(9001, "syntax error");
}

/// <summary>
/// Splits a request line the way BIRD's lexer does in CLI mode: words (keywords and symbols),
/// double-quoted strings, and runs of other characters; <c>{ } ,</c> stand alone.
/// </summary>
internal sealed class CommandTokens
{
    /// <summary>BIRD's <c>SYM_MAX_LEN</c>: longer words are <c>9001 Symbol too long</c>.</summary>
    public const int MaxSymbolLength = 64;

    private readonly List<Token> _tokens;
    private int _next;

    private CommandTokens(string line, List<Token> tokens)
    {
        Line = line;
        _tokens = tokens;
    }

    public string Line { get; }

    public bool AtEnd => _next >= _tokens.Count;

    public Token? Peek => AtEnd ? null : _tokens[_next];

    public static CommandTokens Parse(string line)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < line.Length)
        {
            var c = line[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }
            if (c == '"')
            {
                var end = line.IndexOf('"', i + 1);
                if (end < 0)
                    throw CommandSyntaxException.Syntax();
                tokens.Add(new Token(TokenKind.Text, line[(i + 1)..end], i));
                i = end + 1;
                continue;
            }
            if (c is '{' or '}' or ',')
            {
                tokens.Add(new Token(TokenKind.Other, c.ToString(), i));
                i++;
                continue;
            }
            var start = i;
            while (i < line.Length && !char.IsWhiteSpace(line[i]) && line[i] is not ('"' or '{' or '}' or ','))
                i++;
            var value = line[start..i];
            var isWord = (char.IsAsciiLetter(value[0]) || value[0] == '_') && value.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_');
            if (isWord && value.Length > MaxSymbolLength)
                throw new CommandSyntaxException(9001, "Symbol too long");
            tokens.Add(new Token(isWord ? TokenKind.Word : TokenKind.Other, value, start));
        }
        return new CommandTokens(line, tokens);
    }

    public Token Next()
    {
        if (AtEnd)
            throw CommandSyntaxException.Syntax();
        return _tokens[_next++];
    }

    /// <summary>Consumes the next token when it is <paramref name="keyword"/>.</summary>
    public bool Accept(string keyword)
    {
        if (Peek is { } t && t.Is(keyword))
        {
            _next++;
            return true;
        }
        return false;
    }

    public void Expect(string keyword)
    {
        if (!Accept(keyword))
            throw CommandSyntaxException.Syntax();
    }

    /// <summary>The rest of the line from the next token on, raw (for <c>where</c> conditions).</summary>
    public string TakeRest()
    {
        if (AtEnd)
            throw CommandSyntaxException.Syntax();
        var rest = Line[_tokens[_next].Offset..];
        _next = _tokens.Count;
        return rest.Trim();
    }

    public void ExpectEnd()
    {
        if (!AtEnd)
            throw CommandSyntaxException.Syntax();
    }
}
