namespace Calico.Bgp.Rib;

public sealed partial class RoutingTable
{
    /// <summary>The dirty-set exporters registered now; their <see cref="TableSubscription.Pending"/> is the export lag (metrics).</summary>
    public IReadOnlyCollection<TableSubscription> Subscriptions => _subscriptions;
}
