using Calico.Bgp.Rib;

namespace Calico.Bgp.Config.Filters;

/// <summary>
/// The export filter of a BGP protocol as BIRD 1.x runs it: before the filter, <c>bgp_import_control</c>
/// gives a non-BGP route the attributes it would be sent with (ORIGIN IGP, an empty AS_PATH,
/// LOCAL_PREF = default 100), so <c>defined(bgp_local_pref)</c> is true for static and kernel routes.
/// Calico's export filters rely on that (comment in confd's bgp_processor.go). The next hop is left
/// to the BGP speaker, which knows the session's addresses.
/// </summary>
public sealed class BgpExportFilter(RouteFilter inner) : RouteFilter, IEquatable<BgpExportFilter>
{
    /// <summary>BIRD's <c>default bgp_local_pref</c>.</summary>
    public const uint DefaultLocalPref = 100;

    public RouteFilter Inner { get; } = inner;

    public override string Name => Inner.Name;

    public override Route? Apply(Route route, AttributeCache cache) =>
        Inner is CompiledFilter compiled ? compiled.Apply(route, cache, bgpExportDefaults: true) : Inner.Apply(WithDefaults(route, cache), cache);

    /// <summary>Runs the filter and reports a runtime error instead of logging it.</summary>
    public FilterResult Evaluate(Route route, AttributeCache cache)
    {
        return Inner is CompiledFilter compiled
            ? compiled.Evaluate(route, cache, bgpExportDefaults: true)
            : new FilterResult(Inner.Apply(WithDefaults(route, cache), cache), null);
    }

    /// <summary>The route as BIRD 1.x's export filter of a BGP protocol sees it.</summary>
    public static Route WithDefaults(Route route, AttributeCache cache)
    {
        var a = route.Attributes;
        if (!NeedsDefaults(a))
            return route;
        var filled = a with
        {
            Origin = a.Origin ?? BgpOrigin.Igp,
            AsPath = a.AsPath ?? AsPath.Empty,
            LocalPref = a.LocalPref ?? DefaultLocalPref,
        };
        return route.WithAttributes(cache.Intern(filled));
    }

    private static bool NeedsDefaults(PathAttributes a) =>
        a.Source != RouteSource.Bgp && (a.Origin is null || a.AsPath is null || a.LocalPref is null);

    /// <summary><see cref="WithDefaults"/> done in a compiled filter's draft, so no set is built unless the route is accepted.</summary>
    internal static void FillDefaults(FilterState state)
    {
        if (!NeedsDefaults(state.Base))
            return;
        var d = state.Draft;
        d.Origin ??= BgpOrigin.Igp;
        d.AsPath ??= AsPath.Empty;
        d.LocalPref ??= DefaultLocalPref;
        state.Written = true;
    }

    public bool Equals(BgpExportFilter? other) => other is not null && Inner.Equals(other.Inner);
    public override bool Equals(object? obj) => Equals(obj as BgpExportFilter);
    public override int GetHashCode() => Inner.GetHashCode();
    public override string ToString() => Inner.ToString() ?? Name;
}
