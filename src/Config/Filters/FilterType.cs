namespace Calico.Bgp.Config.Filters;

/// <summary>Static types of the filter language (BIRD 1.6's T_*); every expression has one at parse time.</summary>
internal enum FilterType
{
    Void,
    Bool,
    Int,
    Ip,
    Prefix,
    String,
    Pair,
    Quad,
    Lc,
    Path,
    PathMask,
    Clist,
    LClist,
    Source,
    Dest,
    Origin,
    PrefixSet,
    IntSet,
    PairSet,
    SourceSet,
    DestSet,
    OriginSet,
}

internal static class FilterTypes
{
    public static string Describe(this FilterType t) => t switch
    {
        FilterType.Void => "void",
        FilterType.Bool => "bool",
        FilterType.Int => "int",
        FilterType.Ip => "ip",
        FilterType.Prefix => "prefix",
        FilterType.String => "string",
        FilterType.Pair => "pair",
        FilterType.Quad => "quad",
        FilterType.Lc => "lc",
        FilterType.Path => "bgppath",
        FilterType.PathMask => "bgpmask",
        FilterType.Clist => "clist",
        FilterType.LClist => "lclist",
        FilterType.Source => "enum rts",
        FilterType.Dest => "enum rtd",
        FilterType.Origin => "enum bgp_origin",
        FilterType.PrefixSet => "prefix set",
        FilterType.IntSet => "int set",
        FilterType.PairSet => "pair set",
        FilterType.SourceSet => "enum rts set",
        FilterType.DestSet => "enum rtd set",
        FilterType.OriginSet => "enum bgp_origin set",
        _ => t.ToString(),
    };

    /// <summary>The set type holding elements of <paramref name="element"/>, or null.</summary>
    public static FilterType? SetOf(FilterType element) => element switch
    {
        FilterType.Prefix => FilterType.PrefixSet,
        FilterType.Int => FilterType.IntSet,
        FilterType.Pair => FilterType.PairSet,
        FilterType.Source => FilterType.SourceSet,
        FilterType.Dest => FilterType.DestSet,
        FilterType.Origin => FilterType.OriginSet,
        _ => null,
    };

    /// <summary>Types that order with &lt; and &gt; (BIRD's val_compare).</summary>
    public static bool IsOrdered(this FilterType t) =>
        t is FilterType.Int or FilterType.Ip or FilterType.Pair or FilterType.Quad or FilterType.String
            or FilterType.Prefix or FilterType.Source or FilterType.Dest or FilterType.Origin or FilterType.Bool;

    /// <summary>Parameter/variable type names of <c>function f(int x)</c>.</summary>
    public static FilterType? FromName(string name) => name switch
    {
        "bool" => FilterType.Bool,
        "int" => FilterType.Int,
        "ip" => FilterType.Ip,
        "prefix" => FilterType.Prefix,
        "string" => FilterType.String,
        "pair" => FilterType.Pair,
        "quad" => FilterType.Quad,
        "lc" => FilterType.Lc,
        "bgppath" => FilterType.Path,
        "bgpmask" => FilterType.PathMask,
        "clist" => FilterType.Clist,
        "lclist" => FilterType.LClist,
        _ => null,
    };
}
