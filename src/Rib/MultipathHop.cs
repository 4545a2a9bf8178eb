namespace Calico.Bgp.Rib;

/// <summary>
/// One next hop of a <see cref="RouteDest.Multipath"/> route (BIRD 1.6's <c>struct mpnh</c>): a
/// gateway on a directly connected network, the interface it is reached by, and its share of the
/// traffic (1..256, the kernel's <c>rtnh_hops</c> + 1).
/// </summary>
public readonly record struct MultipathHop(IpAddr Gateway, string Interface, int Weight = 1)
{
    public override string ToString() => $"via {Gateway} on {Interface} weight {Weight}";
}
