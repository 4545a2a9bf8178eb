using Calico.Bgp.Rib;

namespace Calico.Bgp.Config.Filters;

/// <summary>The outcome of running a filter: the accepted route, or null and (on an error) why.</summary>
public readonly record struct FilterResult(Route? Route, string? Error)
{
    public bool Accepted => Route is not null;
}

/// <summary>
/// A filter of the BIRD language compiled to a tree of closures. Two compiled filters are equal when
/// their normalised source (including the functions they call) is the same, so a reload that does
/// not touch a filter leaves the protocols using it alone.
/// </summary>
public sealed class CompiledFilter : RouteFilter, IEquatable<CompiledFilter>
{
    public const string UnnamedDisplayName = "(unnamed)";

    private readonly Exec _body;
    private readonly int _frameSize;
    private readonly Action<string>? _log;

    internal CompiledFilter(string? name, string text, Exec body, int frameSize, Action<string>? log)
    {
        FilterName = name;
        Text = text;
        _body = body;
        _frameSize = frameSize;
        _log = log;
    }

    /// <summary>The declared name, or null for an inline <c>filter { … }</c>.</summary>
    public string? FilterName { get; }

    /// <summary>Normalised source text: tokens separated by spaces, then the text of every function called.</summary>
    public string Text { get; }

    public override string Name => FilterName ?? UnnamedDisplayName;

    public override Route? Apply(Route route, AttributeCache cache) => Apply(route, cache, bgpExportDefaults: false);

    /// <summary>Runs the filter and reports a runtime error instead of logging it.</summary>
    public FilterResult Evaluate(Route route, AttributeCache cache) => Evaluate(route, cache, bgpExportDefaults: false);

    internal Route? Apply(Route route, AttributeCache cache, bool bgpExportDefaults)
    {
        var result = Evaluate(route, cache, bgpExportDefaults);
        if (result.Error is not null)
            _log?.Invoke(result.Error);
        return result.Route;
    }

    /// <summary>
    /// One run over <paramref name="route"/>. With <paramref name="bgpExportDefaults"/> the run first
    /// fills in what <see cref="BgpExportFilter.WithDefaults"/> would, in its draft, so a rejected route
    /// costs no attribute set. Allocates only the accepted route and, when the filter wrote attributes
    /// that give a set not built by a recent run, that set (<see cref="AttributeMemo"/>).
    /// </summary>
    internal FilterResult Evaluate(Route route, AttributeCache cache, bool bgpExportDefaults)
    {
        var state = FilterState.Rent(route, _log, _frameSize);
        try
        {
            if (bgpExportDefaults)
                BgpExportFilter.FillDefaults(state);
            Flow flow;
            try
            {
                flow = _body(state);
            }
            catch (FilterTerminatedException e)
            {
                flow = e.Flow;
            }
            catch (FilterRuntimeException e)
            {
                return new FilterResult(null, $"Filter {Name}: {e.Message}");
            }
            switch (flow)
            {
                case Flow.Accept:
                    var attributes = state.Written ? state.Memo.Resolve(cache, route.Attributes, state.Draft) : route.Attributes;
                    return new FilterResult(route.WithAttributes(attributes).WithPreference(state.Preference), null);
                case Flow.Reject:
                    return new FilterResult(null, null);
                default:
                    return new FilterResult(null, $"Filter {Name} did not return accept nor reject. Make up your mind");
            }
        }
        finally
        {
            state.Release();
        }
    }

    public bool Equals(CompiledFilter? other) => other is not null && FilterName == other.FilterName && Text == other.Text;
    public override bool Equals(object? obj) => Equals(obj as CompiledFilter);
    public override int GetHashCode() => HashCode.Combine(FilterName, Text);
    public override string ToString() => Name;
}
