namespace Calico.Bgp.Rib;

/// <summary>What <see cref="RoutingTable.Update"/> did: BIRD's <c>rte_update</c> outcomes an importer counts.</summary>
public enum RouteUpdate
{
    /// <summary>The same route was there already (BIRD's "ignored").</summary>
    Unchanged,
    /// <summary>No route of this protocol and path id was there.</summary>
    Added,
    /// <summary>It replaced the protocol's route with the same path id.</summary>
    Replaced,
}
