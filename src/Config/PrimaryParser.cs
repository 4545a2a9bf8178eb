using System.Collections.Immutable;
using Calico.Bgp.Config.Filters;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Config;

/// <summary>Literals, sets, path masks, symbols and calls of the filter language.</summary>
internal sealed partial class Parser
{
    private Expr ParsePrimary()
    {
        var t = Peek();
        switch (t.Kind)
        {
            case TokenKind.Number:
                Next();
                return Expr.Const(FilterType.Int, FilterValue.FromInt(t.Number));
            case TokenKind.String:
                Next();
                return Expr.Const(FilterType.String, FilterValue.FromObj(t.Text));
            case TokenKind.Ip4 when _ctx.Ipv6:
                // bird6's lexer turns a dotted quad into a router-id token, a quad constant in
                // filters (so 10.0.0.0/8 parses as quad / int and fails only when evaluated).
                Next();
                return Expr.Const(FilterType.Quad, FilterValue.FromInt(t.Ip.V4));
            case TokenKind.Ip4 or TokenKind.Ip6:
                if (Peek(1).IsPunct("/"))
                    return Expr.Const(FilterType.Prefix, FilterValue.FromPrefix(ExpectPrefix("a prefix")));
                return Expr.Const(FilterType.Ip, FilterValue.FromIp(ExpectAddress("an address")));
            case TokenKind.QuotedSymbol:
                Next();
                return ParseCall(t).AsExpression(t);
            case TokenKind.Punct when t.Text == "(":
                return ParseParenthesised();
            case TokenKind.Punct when t.Text == "[":
                return Peek(1).IsPunct("=") ? ParsePathMask() : ParseSet();
            case TokenKind.Identifier:
                return ParseSymbolExpression();
            default:
                throw Expected("an expression");
        }
    }

    /// <summary><c>( expr )</c>, a pair <c>(a, b)</c> or a large community <c>(a, b, c)</c>.</summary>
    private Expr ParseParenthesised()
    {
        var open = Next();
        var first = ParseExpression();
        if (AcceptPunct(")"))
            return first;
        var parts = new List<Expr> { first };
        while (AcceptPunct(","))
            parts.Add(ParseExpression());
        ExpectPunct(")");
        if (parts.Count > 3 || parts.Any(p => p.Type != FilterType.Int))
            throw Error(open, "expected a pair (a, b) or a large community (a, b, c) of ints");
        var evals = parts.Select(p => p.Eval).ToArray();
        Expr result;
        if (parts.Count == 2)
        {
            result = new Expr(FilterType.Pair, s =>
            {
                var (a, b) = (evals[0](s).Int, evals[1](s).Int);
                if (a is < 0 or > 0xFFFF || b is < 0 or > 0xFFFF)
                    throw new FilterRuntimeException($"pair ({a}, {b}) is out of range (0..65535)");
                return FilterValue.FromInt(new Community((ushort)a, (ushort)b).Raw);
            });
        }
        else
        {
            result = new Expr(FilterType.Lc, s => FilterValue.FromObj(
                new LargeCommunity(unchecked((uint)evals[0](s).Int), unchecked((uint)evals[1](s).Int), unchecked((uint)evals[2](s).Int))));
        }
        if (!parts.All(p => p.IsConstant))
            return result;
        try
        {
            return Expr.Const(result.Type, result.Eval(null!));
        }
        catch (FilterRuntimeException e)
        {
            throw Error(open, e.Message);
        }
    }

    /// <summary><c>[= 65000 * ? =]</c>.</summary>
    private Expr ParsePathMask()
    {
        Next();
        Next();
        var items = new List<long>();
        while (!(Peek().IsPunct("=") && Peek(1).IsPunct("]")))
        {
            var t = Peek();
            if (t.IsPunct("*"))
                items.Add(PathMask.AnyRun);
            else if (t.IsPunct("?"))
                items.Add(PathMask.AnyOne);
            else if (t.Kind == TokenKind.Number)
                items.Add(t.Number);
            else
                throw Expected("an AS number, '*', '?' or '=]'");
            Next();
        }
        Next();
        Next();
        return Expr.Const(FilterType.PathMask, FilterValue.FromObj(new PathMask([.. items])));
    }

    /// <summary>A constant set: prefixes (with <c>+</c>, <c>-</c>, <c>{lo,hi}</c>), ints (with <c>..</c> ranges) or enum values.</summary>
    private Expr ParseSet()
    {
        var open = Next();
        FilterType? element = null;
        var prefixes = new List<PrefixPattern>();
        var ranges = new List<(long, long)>();
        do
        {
            var t = Peek();
            FilterType type;
            if (t.Kind is TokenKind.Ip4 or TokenKind.Ip6)
            {
                type = FilterType.Prefix;
                prefixes.Add(ParsePrefixPattern());
            }
            else if (t.Kind == TokenKind.Number)
            {
                type = FilterType.Int;
                Next();
                var high = t.Number;
                if (Peek().IsPunct(".") && Peek(1).IsPunct("."))
                {
                    Next();
                    Next();
                    high = ExpectNumber("the end of the range");
                }
                ranges.Add((t.Number, high));
            }
            else if (t.Kind == TokenKind.Identifier && EnumNames.TryGet(t.Text, out var enumType, out var value))
            {
                type = enumType;
                Next();
                ranges.Add((value, value));
            }
            else
            {
                throw Expected("a set element (prefix, number or RTS_/RTD_/ORIGIN_ constant)");
            }
            if (element is { } e && e != type)
                throw Error(t, $"set mixes {e.Describe()} and {type.Describe()} elements");
            element = type;
        }
        while (AcceptPunct(","));
        ExpectPunct("]");
        var setType = FilterTypes.SetOf(element!.Value) ?? throw Error(open, "unsupported set");
        object set = setType == FilterType.PrefixSet ? new PrefixSet([.. prefixes]) : new IntSet([.. ranges]);
        return Expr.Const(setType, FilterValue.FromObj(set));
    }

    private PrefixPattern ParsePrefixPattern()
    {
        var prefix = ExpectPrefix("a prefix");
        if (AcceptPunct("+"))
            return new PrefixPattern(prefix, prefix.Length, prefix.Address.BitLength);
        if (AcceptPunct("-"))
            return new PrefixPattern(prefix, 0, prefix.Length);
        if (!AcceptPunct("{"))
            return new PrefixPattern(prefix, prefix.Length, prefix.Length);
        var brace = Peek();
        var low = (int)ExpectNumber("the lowest prefix length", 0, prefix.Address.BitLength);
        ExpectPunct(",");
        var high = (int)ExpectNumber("the highest prefix length", 0, prefix.Address.BitLength);
        ExpectPunct("}");
        if (low > high)
            throw Error(brace, $"invalid prefix length range {{{low},{high}}}");
        return new PrefixPattern(prefix, low, high);
    }

    private Expr ParseSymbolExpression()
    {
        var t = Next();
        switch (t.Text)
        {
            case "true":
                return Expr.Const(FilterType.Bool, FilterValue.True);
            case "false":
                return Expr.Const(FilterType.Bool, FilterValue.False);
            case "defined":
                return ParseDefined();
        }
        if (EnumNames.TryGet(t.Text, out var enumType, out var value))
            return Expr.Const(enumType, FilterValue.FromInt(value));
        if (Scope.Variables.TryGetValue(t.Text, out var variable))
        {
            var slot = variable.Slot;
            return new Expr(variable.Type, s => s.Local(slot)) { Slot = slot };
        }
        if (Attributes.Find(t.Text) is { } attr)
            return new Expr(attr.Type, attr.Read) { Attribute = attr };
        if (_ctx.Functions.ContainsKey(t.Text))
            return ParseCall(t).AsExpression(t);
        throw Error(t, $"unknown symbol '{t.Text}': expected an attribute, variable, function or constant");
    }

    private Expr ParseDefined()
    {
        ExpectPunct("(");
        var e = ParseExpression();
        ExpectPunct(")");
        // Static attributes, variables and constants are always defined (BIRD: not T_VOID).
        if (e.Attribute is { } attr)
            return new Expr(FilterType.Bool, s => FilterValue.FromBool(attr.Defined(s)));
        return Expr.Const(FilterType.Bool, FilterValue.True);
    }
}

/// <summary>A compiled call: runs the function and yields its flow; <c>return</c> ends only the function.</summary>
internal sealed record CallSite(Exec Invoke, FunctionSymbol Function)
{
    public Expr AsExpression(Token at)
    {
        if (Function.ReturnType == FilterType.Void)
            throw new ConfigException(at.Location, $"function '{Function.Definition.Name}' returns no value and cannot be used in an expression");
        var invoke = Invoke;
        return new Expr(Function.ReturnType, s =>
        {
            var flow = invoke(s);
            if (flow is Flow.Accept or Flow.Reject)
                throw new FilterTerminatedException(flow);
            return s.ReturnValue;
        });
    }
}
