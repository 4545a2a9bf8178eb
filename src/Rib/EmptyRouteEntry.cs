using System.Collections.Immutable;

namespace Calico.Bgp.Rib;

/// <summary>
/// A prefix whose last route went: what the journal records for the removal, and the tombstone the
/// table's map leaves in the prefix's slot (<see cref="PrefixMap"/>), one object for both.
/// </summary>
internal sealed class EmptyRouteEntry(Prefix prefix, long version) : RouteEntry
{
    private readonly Prefix _prefix = prefix;
    private readonly uint _stamp = StampOf(version);

    private protected override uint Stamp => _stamp;

    public override Prefix Prefix => _prefix;

    public override ImmutableArray<Route> Routes => [];

    public override Route? Best => null;

    public override int Count => 0;

    public override Route this[int index] => throw new ArgumentOutOfRangeException(nameof(index));

    internal override object? Payload => null;

    internal override bool IsFor(in Prefix prefix) => _prefix.Equals(prefix);
}
