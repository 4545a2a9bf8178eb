using Calico.Bgp.Rib;

namespace Calico.Bgp.Daemon.Control;

/// <summary>
/// The interface a BGP next hop leaves by, for <c>via GW on IF</c>. BIRD resolves a <c>gateway
/// recursive</c> (or <c>direct</c>) next hop through the table and prints the interface of the route
/// that covers the gateway (<c>via 10.99.0.1 on eth0</c>, from <c>10.99.0.0/24 dev eth0</c>); our
/// speaker leaves the interface to the kernel, so the reply resolves it the same way. One instance
/// per command: a gateway is looked up once however many routes use it.
/// </summary>
internal sealed class GatewayInterfaces(RoutingTable table)
{
    private readonly Dictionary<IpAddr, string?> _cache = [];

    /// <summary>The interface of the best route covering <paramref name="gateway"/>, or null.</summary>
    public string? Resolve(IpAddr gateway)
    {
        if (_cache.TryGetValue(gateway, out var known))
            return known;
        string? found = null;
        for (var len = gateway.BitLength; len >= 0 && found is null; len--)
        {
            if (table.Find(new Prefix(gateway, len)) is not { Best: { } best })
                continue;
            // Only a route that names its interface can resolve: a BGP route via another gateway
            // (or a blackhole) does not tell which link the packet takes.
            if (best.Attributes.Dest is RouteDest.Device or RouteDest.Router && best.Attributes.Interface is { } name)
                found = name;
            else
                break;
        }
        _cache[gateway] = found;
        return found;
    }
}
