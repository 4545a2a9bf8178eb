using Calico.Bgp.Rib;

namespace Calico.Bgp.Config.Filters;

/// <summary>A typed, compiled expression; attributes and variables keep what <c>defined()</c> and assignment need.</summary>
internal sealed record Expr(FilterType Type, Eval Eval)
{
    public AttributeInfo? Attribute { get; init; }
    public int? Slot { get; init; }
    public bool IsConstant { get; init; }

    /// <summary>
    /// Set on an expression BIRD 1.6 accepts at parse time but whose evaluation always fails with
    /// a runtime error (bird6 reads <c>10.0.0.0/8</c> in a filter as a quad divided by an int):
    /// operators taking it stay quiet at parse time, as BIRD's do.
    /// </summary>
    public bool FailsAtRuntime { get; init; }

    /// <summary>An expression of <paramref name="type"/> that evaluates its operands in order, then fails with BIRD's message.</summary>
    public static Expr Failing(FilterType type, string message, params Eval[] operands) => new(type, s =>
    {
        foreach (var o in operands)
            o(s);
        throw new FilterRuntimeException(message);
    })
    { FailsAtRuntime = true };

    public static Expr Const(FilterType type, FilterValue value) => new(type, _ => value) { IsConstant = true };
}

/// <summary>A compiled function: its body runs in a frame of its own (parameters first, then locals).</summary>
internal sealed class FunctionSymbol(FunctionDefinition definition, FilterType[] parameterTypes)
{
    public FunctionDefinition Definition { get; set; } = definition;
    public FilterType[] ParameterTypes { get; } = parameterTypes;
    public FilterType ReturnType { get; set; } = FilterType.Void;
    public Exec Body { get; set; } = _ => Flow.Continue;
    public int FrameSize { get; set; }
}

/// <summary>Names visible while compiling one filter or function body.</summary>
internal sealed class FilterScope(string description, bool isFunction)
{
    public string Description { get; } = description;
    public bool IsFunction { get; } = isFunction;
    public Dictionary<string, (int Slot, FilterType Type)> Variables { get; } = [];
    public int FrameSize { get; set; }
    public FilterType? ReturnType { get; set; }
    /// <summary>Functions called, by name, with their text: part of this body's normalised text.</summary>
    public SortedDictionary<string, string> Calls { get; } = new(StringComparer.Ordinal);

    public int Declare(string name, FilterType type)
    {
        var slot = FrameSize++;
        Variables[name] = (slot, type);
        return slot;
    }
}

/// <summary>Formats values for <c>print</c>, as BIRD would show them.</summary>
internal static class FilterFormat
{
    public static string Format(FilterType type, FilterValue v) => type switch
    {
        FilterType.Bool => v.Bool ? "TRUE" : "FALSE",
        FilterType.Ip => v.Ip.ToString(),
        FilterType.Prefix => v.Prefix.ToString(),
        FilterType.String => v.String,
        FilterType.Pair => Community.FromRaw((uint)v.Int).ToString(),
        FilterType.Quad => IpAddr.FromV4((uint)v.Int).ToString(),
        FilterType.Source => EnumNames.Name(FilterType.Source, v.Int),
        FilterType.Dest => EnumNames.Name(FilterType.Dest, v.Int),
        FilterType.Origin => EnumNames.Name(FilterType.Origin, v.Int),
        FilterType.Int => v.Int.ToString(System.Globalization.CultureInfo.InvariantCulture),
        FilterType.Clist => "(clist " + string.Join(" ", v.Clist) + ")",
        FilterType.LClist => "(lclist " + string.Join(" ", v.LClist) + ")",
        _ => v.Obj?.ToString() ?? "",
    };
}

/// <summary>BIRD's enum constants (RTS_*, RTD_*, ORIGIN_*).</summary>
internal static class EnumNames
{
    private static readonly Dictionary<string, (FilterType Type, long Value)> Constants = new()
    {
        ["RTS_DUMMY"] = (FilterType.Source, 0),
        ["RTS_STATIC"] = (FilterType.Source, 1),
        ["RTS_INHERIT"] = (FilterType.Source, 2),
        ["RTS_DEVICE"] = (FilterType.Source, 3),
        ["RTS_STATIC_DEVICE"] = (FilterType.Source, 4),
        ["RTS_REDIRECT"] = (FilterType.Source, 5),
        ["RTS_RIP"] = (FilterType.Source, 6),
        ["RTS_OSPF"] = (FilterType.Source, 7),
        ["RTS_OSPF_IA"] = (FilterType.Source, 8),
        ["RTS_OSPF_EXT1"] = (FilterType.Source, 9),
        ["RTS_OSPF_EXT2"] = (FilterType.Source, 10),
        ["RTS_BGP"] = (FilterType.Source, 11),
        ["RTS_PIPE"] = (FilterType.Source, 12),
        ["RTS_BABEL"] = (FilterType.Source, 13),
        ["RTD_ROUTER"] = (FilterType.Dest, 0),
        ["RTD_DEVICE"] = (FilterType.Dest, 1),
        ["RTD_BLACKHOLE"] = (FilterType.Dest, 2),
        ["RTD_UNREACHABLE"] = (FilterType.Dest, 3),
        ["RTD_PROHIBIT"] = (FilterType.Dest, 4),
        ["RTD_MULTIPATH"] = (FilterType.Dest, 5),
        ["ORIGIN_IGP"] = (FilterType.Origin, 0),
        ["ORIGIN_EGP"] = (FilterType.Origin, 1),
        ["ORIGIN_INCOMPLETE"] = (FilterType.Origin, 2),
    };

    public static bool TryGet(string name, out FilterType type, out long value)
    {
        var found = Constants.TryGetValue(name, out var c);
        (type, value) = c;
        return found;
    }

    public static string Name(FilterType type, long value) =>
        Constants.FirstOrDefault(kv => kv.Value.Type == type && kv.Value.Value == value).Key ?? value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
