using System.Collections.Immutable;
using System.Runtime.CompilerServices;

namespace Calico.Bgp.Rib;

/// <summary>
/// One route as a table holds it (BIRD's <c>rte</c>): prefix, interned attributes, the protocol that
/// owns it, its ADD-PATH path id, preference and graceful-restart staleness. Immutable, but for the
/// <see cref="RouteEntry.Version"/> a table sets once before it publishes the route.
/// </summary>
/// <remarks>
/// <para>A route alone for its prefix is also the prefix's entry in the table (a single-route
/// <see cref="RouteEntry"/>), so a received route costs the table one object; see
/// <see cref="RouteEntry"/> for how the version stays right for readers.</para>
/// <para>A table holds one of these per route, so the fields are packed to 48 bytes (56 with the
/// entry's version, a 72-byte object):
/// the prefix as two words, a length and a flag; <see cref="Since"/> as UTC ticks; the preference in
/// 16 bits, which is BIRD's range (<c>rte.pref</c> is a u16 and the config takes 0–65535). A filter may
/// still set any int; such a route keeps its preference in <see cref="WidePreferences"/> instead, so
/// the public meaning is unchanged and the common route pays nothing for the rare one.</para>
/// </remarks>
public sealed class Route : RouteEntry
{
    private const byte V6Flag = 1;
    private const byte StaleFlag = 2;
    private const byte WidePreferenceFlag = 4;

    /// <summary>Preferences outside 0–65535, by route; weak keys, so an entry goes with its route.</summary>
    private static readonly ConditionalWeakTable<Route, StrongBox<int>> WidePreferences = [];

    private readonly PathAttributes _attributes;
    private readonly Protocol _protocol;
    private readonly ulong _prefixHi;
    private readonly ulong _prefixLo;
    private readonly long _sinceTicks;
    private readonly uint _pathId;
    private readonly ushort _preference;
    private readonly byte _prefixLength;
    private readonly byte _flags;

    public Route(Prefix prefix, PathAttributes attributes, Protocol protocol, uint pathId = 0, int? preference = null, bool stale = false, DateTimeOffset? since = null)
        : this(prefix, attributes, protocol, pathId, preference ?? protocol.Preference, stale, (since ?? protocol.Time.GetUtcNow()).UtcTicks)
    {
    }

    private Route(Prefix prefix, PathAttributes attributes, Protocol protocol, uint pathId, int preference, bool stale, long sinceTicks)
    {
        _attributes = attributes;
        _protocol = protocol;
        _prefixHi = prefix.Hi;
        _prefixLo = prefix.Lo;
        _prefixLength = prefix.Length;
        _pathId = pathId;
        _sinceTicks = sinceTicks;
        var flags = (byte)((prefix.IsV6 ? V6Flag : 0) | (stale ? StaleFlag : 0));
        if ((uint)preference <= ushort.MaxValue)
            _preference = (ushort)preference;
        else
        {
            flags |= WidePreferenceFlag;
            WidePreferences.Add(this, new StrongBox<int>(preference));
        }
        _flags = flags;
    }

    public override Prefix Prefix => new(_prefixHi, _prefixLo, _prefixLength, (_flags & V6Flag) != 0);
    public PathAttributes Attributes => _attributes;
    public Protocol Protocol => _protocol;
    /// <summary>ADD-PATH path identifier as received (RFC 7911); 0 without ADD-PATH.</summary>
    public uint PathId => _pathId;

    public int Preference =>
        (_flags & WidePreferenceFlag) == 0 ? _preference : WidePreferences.TryGetValue(this, out var wide) ? wide.Value : 0;

    /// <summary>Kept from a restarting peer until its End-of-RIB (RFC 4724 §4.2).</summary>
    public bool Stale => (_flags & StaleFlag) != 0;

    /// <summary>When this route last changed (the time column of <c>show route</c>), in UTC.</summary>
    public DateTimeOffset Since => new(_sinceTicks, TimeSpan.Zero);

    public Route WithAttributes(PathAttributes attributes) =>
        ReferenceEquals(attributes, Attributes) ? this : new Route(Prefix, attributes, Protocol, PathId, Preference, Stale, _sinceTicks);

    public Route WithPreference(int preference) =>
        preference == Preference ? this : new Route(Prefix, Attributes, Protocol, PathId, preference, Stale, _sinceTicks);

    public Route AsStale() => Stale ? this : new Route(Prefix, Attributes, Protocol, PathId, Preference, true, _sinceTicks);

    /// <summary>Same owner and path: a newer version of this route replaces it.</summary>
    public bool SameSlot(Route other) => ReferenceEquals(Protocol, other.Protocol) && PathId == other.PathId;

    /// <summary>Whether the two describe the same route (so an update changes nothing).</summary>
    public bool SameContent(Route other) =>
        ReferenceEquals(Attributes, other.Attributes) || Attributes.Equals(other.Attributes)
            ? Preference == other.Preference && Stale == other.Stale && SameSlot(other)
            : false;

    /// <summary>Whether the route is for <paramref name="prefix"/>, without building a <see cref="Rib.Prefix"/>.</summary>
    internal override bool IsFor(in Prefix prefix) =>
        _prefixLo == prefix.Lo && _prefixHi == prefix.Hi && _prefixLength == prefix.Length && ((_flags & V6Flag) != 0) == prefix.IsV6;

    /// <summary>As a single-route entry: this route alone (allocates; prefer the indexer or <see cref="Best"/>).</summary>
    public override ImmutableArray<Route> Routes => [this];

    /// <summary>As a single-route entry: this route.</summary>
    public override Route Best => this;

    /// <summary>As a single-route entry: one.</summary>
    public override int Count => 1;

    /// <summary>As a single-route entry: this route at index 0.</summary>
    public override Route this[int index] => index == 0 ? this : throw new ArgumentOutOfRangeException(nameof(index));

    internal override object Payload => this;

    public override string ToString() => $"{Prefix} [{Protocol.Name}{(PathId != 0 ? $" #{PathId}" : "")}]";
}
