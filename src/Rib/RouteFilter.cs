namespace Calico.Bgp.Rib;

/// <summary>
/// An import or export filter (BIRD's <c>filter</c>). The config compiles the BIRD filter language
/// to subclasses once; protocols run them per route.
/// </summary>
public abstract class RouteFilter
{
    /// <summary>BIRD's <c>all</c>.</summary>
    public static RouteFilter AcceptAll { get; } = new ConstantFilter("all", true);

    /// <summary>BIRD's <c>none</c>.</summary>
    public static RouteFilter RejectAll { get; } = new ConstantFilter("none", false);

    /// <summary>The name <c>show protocols all</c> prints for the filter (<c>ACCEPT</c>, <c>REJECT</c>, a filter name or <c>(unnamed)</c>).</summary>
    public abstract string Name { get; }

    /// <summary>
    /// Runs the filter. Returns the accepted route (the same object, or a copy with changed
    /// attributes interned in <paramref name="cache"/>), or null when the route is rejected.
    /// </summary>
    public abstract Route? Apply(Route route, AttributeCache cache);

    private sealed class ConstantFilter(string keyword, bool accept) : RouteFilter
    {
        public override string Name => accept ? "ACCEPT" : "REJECT";
        public override Route? Apply(Route route, AttributeCache cache) => accept ? route : null;
        public override string ToString() => keyword;
    }
}
