namespace Calico.Bgp.Config;

/// <summary>
/// Bounds on how deep expressions and statements nest and how many operators one chains. The
/// parser is recursive descent and the compiled filter is a tree of closures, so nesting costs
/// stack when parsing and both nesting and operator chains (<c>a &amp;&amp; b &amp;&amp; …</c>, each
/// operator a closure calling the one before) cost stack when a filter runs. <c>((((…</c> a few
/// thousand deep, and <c>true &amp;&amp;</c> repeated 200,000 times, overflowed the stack and killed
/// the process (found by the control fuzz target through <c>show route where</c>,
/// docs/reliability.md). Past a bound the text gets a <see cref="ConfigException"/> like any other
/// error, as BIRD's parser answers too-deep input with an error instead of crashing.
/// </summary>
internal sealed partial class Parser
{
    /// <summary>Far beyond anything Calico or a person writes; far below what the stack holds.</summary>
    public const int MaxNestingDepth = 256;

    /// <summary>Binary operators in one top-level statement or expression; Calico's longest has a few dozen.</summary>
    public const int MaxOperators = 1024;

    private int _nesting;
    private int _operators;

    /// <summary>Enters one level; dispose the result when the construct is parsed.</summary>
    private NestingScope Nest()
    {
        if (_nesting >= MaxNestingDepth)
            throw Error(Peek(), $"nesting too deep (more than {MaxNestingDepth} levels)");
        // A new top-level statement or expression starts its own operator count.
        if (_nesting == 0)
            _operators = 0;
        _nesting++;
        return new NestingScope(this);
    }

    /// <summary>Counts one binary operator (<paramref name="op"/>) of the current top-level construct.</summary>
    private void CountOperator(Token op)
    {
        if (++_operators > MaxOperators)
            throw Error(op, $"expression too long (more than {MaxOperators} operators)");
    }

    private readonly ref struct NestingScope(Parser parser)
    {
        public void Dispose() => parser._nesting--;
    }
}
