using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace Calico.Bgp.Rib;

/// <summary>
/// The entry of a prefix with two or more routes, best first; also of one route that was published
/// as an entry before (see <see cref="RouteEntry"/>), which a fresh entry must then carry.
/// </summary>
internal sealed class MultiRouteEntry : RouteEntry
{
    private readonly Route[] _routes;
    private readonly uint _stamp;

    /// <param name="routes">One or more routes best first, owned by the entry from now on.</param>
    public MultiRouteEntry(Route[] routes, long version)
    {
        _routes = RouteList.Many(routes);
        _stamp = StampOf(version);
    }

    private protected override uint Stamp => _stamp;

    public override Prefix Prefix => _routes[0].Prefix;

    public override ImmutableArray<Route> Routes => ImmutableCollectionsMarshal.AsImmutableArray(_routes);

    public override Route? Best => _routes[0];

    public override int Count => _routes.Length;

    public override Route this[int index] => _routes[index];

    internal override object Payload => _routes;

    internal override bool IsFor(in Prefix prefix) => _routes[0].IsFor(prefix);
}
