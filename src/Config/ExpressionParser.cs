using System.Collections.Immutable;
using Calico.Bgp.Config.Filters;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Config;

/// <summary>
/// Expressions with BIRD 1.6's precedence: <c>&amp;&amp;</c> and <c>||</c> share the lowest level
/// (left-associative, short-circuit); comparisons are non-associative above them; then <c>+ -</c>,
/// <c>* / %</c>, and prefix <c>!</c>.
/// </summary>
internal sealed partial class Parser
{
    private static readonly string[] ComparisonOps = ["=", "!=", "<", ">", "<=", ">=", "~", "!~"];

    private Expr ExpectBool(Expr e, string what) =>
        e.Type == FilterType.Bool ? e : throw Error(Peek(), $"{what} must be bool, not {e.Type.Describe()}");

    private Expr ParseExpression()
    {
        using var nesting = Nest();
        var left = ParseComparison();
        while (Peek().IsPunct("&&") || Peek().IsPunct("||"))
        {
            var op = Next();
            CountOperator(op);
            var right = ParseComparison();
            if (left.Type != FilterType.Bool || right.Type != FilterType.Bool)
                throw Error(op, $"operands of '{op.Text}' must be bool, not {left.Type.Describe()} and {right.Type.Describe()}");
            var (l, r) = (left.Eval, right.Eval);
            left = op.Text == "&&"
                ? new Expr(FilterType.Bool, s => l(s).Bool ? r(s) : FilterValue.False)
                : new Expr(FilterType.Bool, s => l(s).Bool ? FilterValue.True : r(s));
        }
        return left;
    }

    private Expr ParseComparison()
    {
        var left = ParseAdditive();
        var op = Peek();
        if (op.Kind != TokenKind.Punct || Array.IndexOf(ComparisonOps, op.Text) < 0)
            return left;
        Next();
        var right = ParseAdditive();
        var next = Peek();
        if (next.Kind == TokenKind.Punct && Array.IndexOf(ComparisonOps, next.Text) >= 0)
            throw Error(next, $"comparison operators are not associative: put '{op.Text}' or '{next.Text}' in parentheses");
        var result = Compare(op, left, right);
        return left.IsConstant && right.IsConstant ? Expr.Const(FilterType.Bool, result.Eval(null!)) : result;
    }

    private static Expr Compare(Token op, Expr left, Expr right)
    {
        var (l, r) = (left.Eval, right.Eval);
        if (left.FailsAtRuntime || right.FailsAtRuntime)
            return Expr.Failing(FilterType.Bool, $"Incompatible types for operation {op.Text}", l, r);
        if (op.Text is "~" or "!~")
        {
            var match = Operations.Match(left.Type, right.Type)
                ?? throw Error(op, $"cannot match {left.Type.Describe()} against {right.Type.Describe()} with '{op.Text}'");
            return op.Text == "~"
                ? new Expr(FilterType.Bool, s => FilterValue.FromBool(match(l(s), r(s))))
                : new Expr(FilterType.Bool, s => FilterValue.FromBool(!match(l(s), r(s))));
        }
        if (left.Type != right.Type)
            throw Error(op, $"cannot compare {left.Type.Describe()} with {right.Type.Describe()}");
        if (op.Text is "=" or "!=")
        {
            var eq = Operations.Equality(left.Type);
            return op.Text == "="
                ? new Expr(FilterType.Bool, s => FilterValue.FromBool(eq(l(s), r(s))))
                : new Expr(FilterType.Bool, s => FilterValue.FromBool(!eq(l(s), r(s))));
        }
        if (!left.Type.IsOrdered())
            throw Error(op, $"values of type {left.Type.Describe()} cannot be ordered with '{op.Text}'");
        var cmp = Operations.Ordering(left.Type);
        return op.Text switch
        {
            "<" => new Expr(FilterType.Bool, s => FilterValue.FromBool(cmp(l(s), r(s)) < 0)),
            ">" => new Expr(FilterType.Bool, s => FilterValue.FromBool(cmp(l(s), r(s)) > 0)),
            "<=" => new Expr(FilterType.Bool, s => FilterValue.FromBool(cmp(l(s), r(s)) <= 0)),
            _ => new Expr(FilterType.Bool, s => FilterValue.FromBool(cmp(l(s), r(s)) >= 0)),
        };
    }

    private Expr ParseAdditive()
    {
        var left = ParseMultiplicative();
        while (Peek().IsPunct("+") || Peek().IsPunct("-"))
        {
            var op = Next();
            CountOperator(op);
            left = Arithmetic(op, left, ParseMultiplicative());
        }
        return left;
    }

    private Expr ParseMultiplicative()
    {
        var left = ParseUnary();
        while (Peek().IsPunct("*") || Peek().IsPunct("/") || Peek().IsPunct("%"))
        {
            var op = Next();
            CountOperator(op);
            left = Arithmetic(op, left, ParseUnary());
        }
        return left;
    }

    private static Expr Arithmetic(Token op, Expr left, Expr right)
    {
        // BIRD 1.6 checks operand types when the filter runs; a quad (bird6's reading of a dotted
        // quad) in arithmetic parses there and fails at run time with this message.
        if (left.FailsAtRuntime || right.FailsAtRuntime || left.Type == FilterType.Quad || right.Type == FilterType.Quad)
            return Expr.Failing(FilterType.Int, $"Incompatible types for operation {op.Text}", left.Eval, right.Eval);
        if (left.Type != FilterType.Int || right.Type != FilterType.Int)
            throw Error(op, $"operands of '{op.Text}' must be int, not {left.Type.Describe()} and {right.Type.Describe()}");
        var (l, r) = (left.Eval, right.Eval);
        Expr result = op.Text switch
        {
            "+" => new(FilterType.Int, s => FilterValue.FromInt(l(s).Int + r(s).Int)),
            "-" => new(FilterType.Int, s => FilterValue.FromInt(l(s).Int - r(s).Int)),
            "*" => new(FilterType.Int, s => FilterValue.FromInt(l(s).Int * r(s).Int)),
            _ => new(FilterType.Int, s =>
            {
                var d = r(s).Int;
                if (d == 0)
                    throw new FilterRuntimeException("division by zero");
                return FilterValue.FromInt(op.Text == "/" ? l(s).Int / d : l(s).Int % d);
            }),
        };
        return left.IsConstant && right.IsConstant && op.Text is "+" or "-" or "*"
            ? Expr.Const(FilterType.Int, result.Eval(null!))
            : result;
    }

    private Expr ParseUnary()
    {
        if (Peek().IsPunct("!"))
        {
            var op = Next();
            using var nesting = Nest();
            var operand = ParseUnary();
            if (operand.Type != FilterType.Bool)
                throw Error(op, $"operand of '!' must be bool, not {operand.Type.Describe()}");
            var e = operand.Eval;
            return new Expr(FilterType.Bool, s => FilterValue.FromBool(!e(s).Bool));
        }
        return ParsePostfix(ParsePrimary());
    }

    /// <summary><c>.len</c>, <c>.ip</c>, <c>.first</c>, <c>.last</c>, <c>.mask(N)</c>.</summary>
    private Expr ParsePostfix(Expr e)
    {
        while (Peek().IsPunct("."))
        {
            var dot = Next();
            var name = ExpectSymbol("a method name after '.'");
            var v = e.Eval;
            e = (name.Text, e.Type) switch
            {
                ("len", FilterType.Prefix) => new Expr(FilterType.Int, s => FilterValue.FromInt(v(s).Int)),
                ("len", FilterType.Path) => new Expr(FilterType.Int, s => FilterValue.FromInt(((AsPath)v(s).Obj!).Length)),
                ("len", FilterType.Clist) => new Expr(FilterType.Int, s => FilterValue.FromInt(v(s).Clist.Length)),
                ("len", FilterType.LClist) => new Expr(FilterType.Int, s => FilterValue.FromInt(v(s).LClist.Length)),
                ("ip", FilterType.Prefix) => new Expr(FilterType.Ip, s => FilterValue.FromIp(v(s).Ip)),
                ("first", FilterType.Path) => new Expr(FilterType.Int, s => FilterValue.FromInt(((AsPath)v(s).Obj!).FirstAs)),
                ("last", FilterType.Path) => new Expr(FilterType.Int, s => FilterValue.FromInt(((AsPath)v(s).Obj!).LastAs)),
                ("mask", FilterType.Ip) => ParseMask(v),
                _ => throw Error(dot, $"{e.Type.Describe()} has no method '{name.Text}'"),
            };
        }
        return e;
    }

    private Expr ParseMask(Eval v)
    {
        ExpectPunct("(");
        var len = ParseExpression();
        if (len.Type != FilterType.Int)
            throw Error(Peek(), "the argument of mask() must be int");
        ExpectPunct(")");
        var l = len.Eval;
        return new Expr(FilterType.Ip, s =>
        {
            var ip = v(s).Ip;
            var n = l(s).Int;
            if (n < 0 || n > ip.BitLength)
                throw new FilterRuntimeException($"mask length {n} is out of range");
            return FilterValue.FromIp(new Prefix(ip, (int)n).Address);
        });
    }
}
