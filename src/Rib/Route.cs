namespace Calico.Bgp.Rib;

/// <summary>
/// One route as a table holds it (BIRD's <c>rte</c>): prefix, interned attributes, the protocol that
/// owns it, its ADD-PATH path id, preference and graceful-restart staleness. Immutable.
/// </summary>
public sealed class Route
{
    public Route(Prefix prefix, PathAttributes attributes, Protocol protocol, uint pathId = 0, int? preference = null, bool stale = false, DateTimeOffset? since = null)
    {
        Prefix = prefix;
        Attributes = attributes;
        Protocol = protocol;
        PathId = pathId;
        Preference = preference ?? protocol.Preference;
        Stale = stale;
        Since = since ?? protocol.Time.GetUtcNow();
    }

    public Prefix Prefix { get; }
    public PathAttributes Attributes { get; }
    public Protocol Protocol { get; }
    /// <summary>ADD-PATH path identifier as received (RFC 7911); 0 without ADD-PATH.</summary>
    public uint PathId { get; }
    public int Preference { get; }
    /// <summary>Kept from a restarting peer until its End-of-RIB (RFC 4724 §4.2).</summary>
    public bool Stale { get; }
    /// <summary>When this route last changed (the time column of <c>show route</c>).</summary>
    public DateTimeOffset Since { get; }

    public Route WithAttributes(PathAttributes attributes) =>
        ReferenceEquals(attributes, Attributes) ? this : new Route(Prefix, attributes, Protocol, PathId, Preference, Stale, Since);

    public Route WithPreference(int preference) =>
        preference == Preference ? this : new Route(Prefix, Attributes, Protocol, PathId, preference, Stale, Since);

    public Route AsStale() => Stale ? this : new Route(Prefix, Attributes, Protocol, PathId, Preference, true, Since);

    /// <summary>Same owner and path: a newer version of this route replaces it.</summary>
    public bool SameSlot(Route other) => ReferenceEquals(Protocol, other.Protocol) && PathId == other.PathId;

    /// <summary>Whether the two describe the same route (so an update changes nothing).</summary>
    public bool SameContent(Route other) =>
        ReferenceEquals(Attributes, other.Attributes) || Attributes.Equals(other.Attributes)
            ? Preference == other.Preference && Stale == other.Stale && SameSlot(other)
            : false;

    public override string ToString() => $"{Prefix} [{Protocol.Name}{(PathId != 0 ? $" #{PathId}" : "")}]";
}
