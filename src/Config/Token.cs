using Calico.Bgp.Rib;

namespace Calico.Bgp.Config;

internal enum TokenKind
{
    End,
    /// <summary>A bare word: keyword or symbol (the parser decides by context, as BIRD's keywords are few).</summary>
    Identifier,
    /// <summary>A symbol written in single quotes, e.g. <c>'bgp_test-filter_importFilterV4'</c>.</summary>
    QuotedSymbol,
    Number,
    Ip4,
    Ip6,
    String,
    Punct,
}

/// <summary>One lexical token with its location. Numbers and addresses are decoded by the lexer.</summary>
internal sealed class Token(TokenKind kind, string text, SourceLocation location)
{
    public TokenKind Kind { get; } = kind;
    public string Text { get; } = text;
    public SourceLocation Location { get; } = location;
    public long Number { get; init; }
    public IpAddr Ip { get; init; }

    public bool IsPunct(string p) => Kind == TokenKind.Punct && Text == p;
    public bool IsWord(string w) => Kind == TokenKind.Identifier && Text == w;
    public bool IsSymbol => Kind is TokenKind.Identifier or TokenKind.QuotedSymbol;

    /// <summary>How an error message quotes this token.</summary>
    public string Describe() => Kind switch
    {
        TokenKind.End => "end of file",
        TokenKind.String => $"string \"{Text}\"",
        TokenKind.QuotedSymbol => $"'{Text}'",
        _ => $"'{Text}'",
    };

    public override string ToString() => Text;
}
