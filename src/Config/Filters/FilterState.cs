using Calico.Bgp.Rib;

namespace Calico.Bgp.Config.Filters;

/// <summary>How a statement ends: go on, leave the function, or end the whole filter.</summary>
internal enum Flow : byte
{
    Continue,
    Return,
    Accept,
    Reject,
}

internal delegate FilterValue Eval(FilterState state);

internal delegate Flow Exec(FilterState state);

/// <summary>A failure while running a filter (BIRD's <c>runtime()</c>): the route is rejected.</summary>
internal sealed class FilterRuntimeException(string message) : Exception(message);

/// <summary>What a filter sees and changes while it runs over one route.</summary>
internal sealed class FilterState(Route route, Action<string>? log)
{
    public Route Route { get; } = route;
    /// <summary>Replaced (never mutated) on each attribute write; interned once at the end.</summary>
    public PathAttributes Attrs { get; set; } = route.Attributes;
    public int Preference { get; set; } = route.Preference;
    public FilterValue[] Frame { get; set; } = [];
    public FilterValue ReturnValue { get; set; }
    public Action<string>? Log { get; } = log;
}

/// <summary>accept/reject inside a function called from an expression: ends the whole filter.</summary>
internal sealed class FilterTerminatedException(Flow flow) : Exception
{
    public Flow Flow { get; } = flow;
}
