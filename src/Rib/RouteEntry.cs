using System.Collections.Immutable;

namespace Calico.Bgp.Rib;

/// <summary>
/// All routes for one prefix, best first (BIRD's <c>net</c>). Immutable: the table's writer
/// publishes a new entry for every change, so readers see consistent snapshots without locks.
/// </summary>
public sealed class RouteEntry
{
    internal RouteEntry(Prefix prefix, ImmutableArray<Route> routes, long version)
    {
        Prefix = prefix;
        Routes = routes;
        Version = version;
    }

    public Prefix Prefix { get; }

    /// <summary>Every route for the prefix, ordered by the decision process (best first).</summary>
    public ImmutableArray<Route> Routes { get; }

    /// <summary>The table's change counter when this entry was published.</summary>
    public long Version { get; }

    public Route? Best => Routes.IsEmpty ? null : Routes[0];

    public bool IsEmpty => Routes.IsEmpty;
}
