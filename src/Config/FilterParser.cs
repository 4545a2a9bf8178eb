using System.Text;
using Calico.Bgp.Config.Filters;

namespace Calico.Bgp.Config;

/// <summary>
/// Filter and function definitions and statements of the filter language. Everything compiles
/// straight to closures while parsing (no syntax tree is kept), with types checked as it goes.
/// </summary>
internal sealed partial class Parser
{
    private FilterScope? _scope;

    private FilterScope Scope => _scope ?? throw new InvalidOperationException("not inside a filter");

    private void ParseFunction()
    {
        var keyword = Next();
        var name = ExpectSymbol("a function name");
        _ctx.Define(name.Text, "function", name.Location);
        var start = _pos;
        var scope = new FilterScope($"function {name.Text}", isFunction: true);
        var parameters = new List<FunctionParameter>();
        var types = new List<FilterType>();
        ExpectPunct("(");
        if (!Peek().IsPunct(")"))
        {
            do
            {
                var (type, typeName) = ParseTypeName();
                var param = ExpectSymbol("a parameter name");
                if (scope.Variables.ContainsKey(param.Text))
                    throw Error(param, $"parameter '{param.Text}' is declared twice");
                scope.Declare(param.Text, type);
                parameters.Add(new FunctionParameter(typeName, param.Text));
                types.Add(type);
            }
            while (AcceptPunct(","));
        }
        ExpectPunct(")");
        var (body, frameSize) = CompileBody(scope);
        var symbol = new FunctionSymbol(new FunctionDefinition(name.Text, keyword.Location, parameters, ""), [.. types])
        {
            Body = body,
            FrameSize = frameSize,
            ReturnType = scope.ReturnType ?? FilterType.Void,
        };
        symbol.Definition = symbol.Definition with { Text = TextOf(start, scope) };
        _ctx.Functions[name.Text] = symbol;
    }

    private void ParseNamedFilter()
    {
        var keyword = Next();
        var name = ExpectSymbol("a filter name");
        _ctx.Define(name.Text, "filter", name.Location);
        var filter = ParseFilterBody(name.Text);
        _ctx.Filters[name.Text] = new FilterDefinition(name.Text, keyword.Location, filter);
    }

    /// <summary>Local declarations then <c>{ … }</c>, compiled to a filter; <paramref name="name"/> null for inline filters.</summary>
    private CompiledFilter ParseFilterBody(string? name)
    {
        var start = _pos;
        var scope = new FilterScope(name is null ? "inline filter" : $"filter {name}", isFunction: false);
        var (body, frameSize) = CompileBody(scope);
        return new CompiledFilter(name, TextOf(start, scope), body, frameSize, _ctx.Options.Log);
    }

    /// <summary><c>where EXPR</c>: accept when the condition holds, else reject.</summary>
    private CompiledFilter ParseWhereFilter()
    {
        var start = _pos;
        var scope = new FilterScope("where filter", isFunction: false);
        _scope = scope;
        try
        {
            var cond = ExpectBool(ParseExpression(), "the 'where' condition");
            var eval = cond.Eval;
            return new CompiledFilter(null, TextOf(start, scope), s => eval(s).Bool ? Flow.Accept : Flow.Reject, scope.FrameSize, _ctx.Options.Log);
        }
        finally
        {
            _scope = null;
        }
    }

    /// <summary>Declarations (<c>int x;</c>) then a block.</summary>
    private (Exec Body, int FrameSize) CompileBody(FilterScope scope)
    {
        var outer = _scope;
        _scope = scope;
        try
        {
            while (Peek().Kind == TokenKind.Identifier && FilterTypes.FromName(Peek().Text) is not null)
            {
                var (type, _) = ParseTypeName();
                var variable = ExpectSymbol("a variable name");
                if (scope.Variables.ContainsKey(variable.Text))
                    throw Error(variable, $"variable '{variable.Text}' is declared twice");
                scope.Declare(variable.Text, type);
                EndStatement();
            }
            if (!Peek().IsPunct("{"))
                throw Expected("'{'");
            var body = ParseStatement();
            return (body, scope.FrameSize);
        }
        finally
        {
            _scope = outer;
        }
    }

    private (FilterType Type, string Name) ParseTypeName()
    {
        var t = Peek();
        if (t.Kind != TokenKind.Identifier || FilterTypes.FromName(t.Text) is not { } type)
            throw Expected("a type (bool, int, ip, prefix, string, pair, quad, lc, bgppath, bgpmask, clist, lclist)");
        Next();
        if (AcceptWord("set"))
        {
            var set = FilterTypes.SetOf(type) ?? throw Error(t, $"there is no set of {t.Text}");
            return (set, t.Text + " set");
        }
        return (type, t.Text);
    }

    /// <summary>Tokens from <paramref name="start"/> to here, then the functions called: what equality compares.</summary>
    private string TextOf(int start, FilterScope scope)
    {
        var sb = new StringBuilder();
        for (var i = start; i < _pos; i++)
        {
            var t = _tokens[i];
            if (i > start)
                sb.Append(' ');
            sb.Append(t.Kind switch
            {
                TokenKind.String => "\"" + t.Text + "\"",
                TokenKind.QuotedSymbol => "'" + t.Text + "'",
                _ => t.Text,
            });
        }
        foreach (var (name, text) in scope.Calls)
            sb.Append('\n').Append(name).Append(": ").Append(text.Replace("\n", "\n  ", StringComparison.Ordinal));
        return sb.ToString();
    }

    private Exec ParseStatement()
    {
        using var nesting = Nest();
        var t = Peek();
        if (t.IsPunct("{"))
            return ParseBlock();
        if (t.IsPunct(";"))
        {
            Next();
            return static _ => Flow.Continue;
        }
        if (t.Kind == TokenKind.QuotedSymbol)
        {
            Next();
            var call = ParseCall(t).Invoke;
            EndStatement();
            return call;
        }
        if (t.Kind != TokenKind.Identifier)
            throw Expected("a statement");
        switch (t.Text)
        {
            case "if":
                return ParseIf();
            case "accept":
                Next();
                EndStatement();
                return static _ => Flow.Accept;
            case "reject":
                Next();
                EndStatement();
                return static _ => Flow.Reject;
            case "return":
                return ParseReturn();
            case "print" or "printn":
                return ParsePrint();
            case "unset":
                return ParseUnset();
        }
        return ParseSymbolStatement();
    }

    private Exec ParseBlock()
    {
        var open = Next();
        var list = new List<Exec>();
        while (!AcceptPunct("}"))
        {
            if (Peek().Kind == TokenKind.End)
                throw Error(open, "unterminated block: expected '}' before end of file");
            list.Add(ParseStatement());
        }
        var stmts = list.ToArray();
        return stmts.Length switch
        {
            0 => static _ => Flow.Continue,
            1 => stmts[0],
            _ => s =>
            {
                foreach (var stmt in stmts)
                {
                    var flow = stmt(s);
                    if (flow != Flow.Continue)
                        return flow;
                }
                return Flow.Continue;
            }
            ,
        };
    }

    private Exec ParseIf()
    {
        Next();
        var cond = ExpectBool(ParseExpression(), "the 'if' condition").Eval;
        ExpectWord("then");
        var then = ParseStatement();
        if (!AcceptWord("else"))
            return s => cond(s).Bool ? then(s) : Flow.Continue;
        var otherwise = ParseStatement();
        return s => cond(s).Bool ? then(s) : otherwise(s);
    }

    private Exec ParseReturn()
    {
        var t = Next();
        if (AcceptPunct(";"))
            return static _ => Flow.Return;
        var value = ParseExpression();
        EndStatement();
        var scope = Scope;
        if (scope.ReturnType is { } previous && previous != value.Type)
            throw Error(t, $"{scope.Description} returns {previous.Describe()} elsewhere, here {value.Type.Describe()}");
        scope.ReturnType = value.Type;
        var eval = value.Eval;
        return s =>
        {
            s.ReturnValue = eval(s);
            return Flow.Return;
        };
    }

    private Exec ParsePrint()
    {
        Next();
        var parts = new List<Expr>();
        do
            parts.Add(ParseExpression());
        while (AcceptPunct(","));
        EndStatement();
        var items = parts.ToArray();
        return s =>
        {
            if (s.Log is { } log)
            {
                log(string.Concat(items.Select(e => FilterFormat.Format(e.Type, e.Eval(s)))));
            }
            return Flow.Continue;
        };
    }

    private Exec ParseUnset()
    {
        Next();
        ExpectPunct("(");
        var name = ExpectSymbol("an attribute name");
        var attr = Attributes.Find(name.Text) ?? throw Error(name, $"unknown attribute '{name.Text}'");
        var unset = attr.Unset ?? throw Error(name, $"attribute {attr.Name} cannot be unset");
        ExpectPunct(")");
        EndStatement();
        return s =>
        {
            unset(s);
            return Flow.Continue;
        };
    }
}
