using Calico.Bgp.Config.Filters;

namespace Calico.Bgp.Config;

/// <summary>Compiles the condition of the control socket's <c>show route where EXPR</c>.</summary>
public static class WhereCondition
{
    /// <summary>
    /// Compiles <paramref name="condition"/> (e.g. <c>net ~ 10.0.0.0/8 &amp;&amp; bgp_path.len &gt; 1</c>) to a filter
    /// that accepts the routes it holds for. Errors are <see cref="ConfigException"/>s located in
    /// the text <c>where</c>.
    /// </summary>
    public static CompiledFilter Compile(string condition, ConfigLoadOptions? options = null)
    {
        var ctx = new ParseContext(options ?? new ConfigLoadOptions());
        var tokens = Lexer.Tokenize(condition, "where");
        return new Parser(tokens, ctx, "where").ParseWhereCondition();
    }
}

internal sealed partial class Parser
{
    /// <summary>A whole token stream that is one <c>where</c> condition.</summary>
    internal CompiledFilter ParseWhereCondition()
    {
        var filter = ParseWhereFilter();
        if (Peek().Kind != TokenKind.End)
            throw Expected("the end of the condition");
        return filter;
    }
}
