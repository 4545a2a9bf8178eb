using System.Collections.Immutable;
using Calico.Bgp.Config.Filters;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Config;

/// <summary>Statements that start with a symbol: calls, assignments and list methods.</summary>
internal sealed partial class Parser
{
    /// <summary>After the function name: <c>( args )</c>, checked against the parameters.</summary>
    private CallSite ParseCall(Token name)
    {
        if (!_ctx.Functions.TryGetValue(name.Text, out var fn))
            throw Error(name, $"unknown function '{name.Text}'");
        ExpectPunct("(");
        var args = new List<Expr>();
        if (!Peek().IsPunct(")"))
        {
            do
                args.Add(ParseExpression());
            while (AcceptPunct(","));
        }
        ExpectPunct(")");
        if (args.Count != fn.ParameterTypes.Length)
            throw Error(name, $"function '{name.Text}' takes {fn.ParameterTypes.Length} argument(s), {args.Count} given");
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i].Type != fn.ParameterTypes[i])
                throw Error(name, $"argument {i + 1} of '{name.Text}' must be {fn.ParameterTypes[i].Describe()}, not {args[i].Type.Describe()}");
        }
        Scope.Calls[fn.Definition.Name] = fn.Definition.Text;
        var evals = args.Select(a => a.Eval).ToArray();
        var invoke = FunctionCall.Compile(evals, fn.Body, fn.FrameSize);
        return new CallSite(invoke, fn);
    }

    private Exec ParseSymbolStatement()
    {
        var t = Next();
        if (Peek().IsPunct("("))
        {
            var call = ParseCall(t).Invoke;
            EndStatement();
            return call;
        }

        Eval read;
        Action<FilterState, FilterValue> write;
        FilterType type;
        string what;
        if (Scope.Variables.TryGetValue(t.Text, out var variable))
        {
            var slot = variable.Slot;
            read = s => s.Local(slot);
            write = (s, v) => s.SetLocal(slot, v);
            type = variable.Type;
            what = $"variable '{t.Text}'";
        }
        else if (Attributes.Find(t.Text) is { } attr)
        {
            read = attr.Read;
            write = attr.Write ?? throw Error(t, $"attribute {attr.Name} is read-only");
            type = attr.Type;
            what = $"attribute {attr.Name}";
        }
        else
        {
            throw Error(t, $"unknown symbol '{t.Text}': expected a statement (if, accept, reject, return, print, unset, an assignment or a function call)");
        }

        if (AcceptPunct("="))
        {
            var valueToken = Peek();
            var value = ParseExpression();
            EndStatement();
            if (value.Type != type)
                throw Error(valueToken, $"cannot assign {value.Type.Describe()} to {what} of type {type.Describe()}");
            var eval = value.Eval;
            return s =>
            {
                write(s, eval(s));
                return Flow.Continue;
            };
        }
        if (AcceptPunct("."))
            return ParseMethodStatement(what, type, read, write);
        throw Expected($"'=' or '.' after {what}");
    }

    /// <summary><c>bgp_community.add((a,b));</c>, <c>.delete</c>, <c>.empty</c>, <c>bgp_path.prepend(N);</c>.</summary>
    private Exec ParseMethodStatement(string what, FilterType type, Eval read, Action<FilterState, FilterValue> write)
    {
        var method = ExpectSymbol("a method name");
        Func<FilterValue, FilterValue, FilterValue> apply;
        if (method.Text == "empty")
        {
            EndStatement();
            FilterValue empty = type switch
            {
                FilterType.Clist => FilterValue.FromClist([]),
                FilterType.LClist => FilterValue.FromLClist([]),
                FilterType.Path => FilterValue.FromObj(AsPath.Empty),
                _ => throw Error(method, $"{what} has no method 'empty'"),
            };
            return s =>
            {
                write(s, empty);
                return Flow.Continue;
            };
        }
        ExpectPunct("(");
        var argToken = Peek();
        var arg = ParseExpression();
        ExpectPunct(")");
        EndStatement();
        apply = (method.Text, type, arg.Type) switch
        {
            // Through a per-thread memo (ListEdits): the same edit of the same interned list, route
            // after route, returns the list it made the first time instead of a new one per route.
            ("add", FilterType.Clist, FilterType.Pair) => static (list, v) =>
                FilterValue.FromObj(ListEdits.Add((Community[])list.Obj!, Community.FromRaw((uint)v.Int))),
            ("delete", FilterType.Clist, FilterType.Pair) => static (list, v) =>
                FilterValue.FromObj(ListEdits.Delete((Community[])list.Obj!, Community.FromRaw((uint)v.Int))),
            ("add", FilterType.LClist, FilterType.Lc) => static (list, v) =>
                FilterValue.FromObj(ListEdits.Add((LargeCommunity[])list.Obj!, (LargeCommunity)v.Obj!)),
            ("delete", FilterType.LClist, FilterType.Lc) => static (list, v) =>
                FilterValue.FromObj(ListEdits.Delete((LargeCommunity[])list.Obj!, (LargeCommunity)v.Obj!)),
            ("prepend", FilterType.Path, FilterType.Int) => static (path, v) =>
                FilterValue.FromObj(((AsPath)path.Obj!).Prepend(unchecked((uint)v.Int))),
            _ => throw Error(argToken, $"{what} ({type.Describe()}) has no method '{method.Text}' taking {arg.Type.Describe()}"),
        };
        var eval = arg.Eval;
        return s =>
        {
            write(s, apply(read(s), eval(s)));
            return Flow.Continue;
        };
    }
}
