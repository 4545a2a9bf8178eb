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
/// <para>A table holds one of these per route, so the fields are packed: an IPv4 route is a 48-byte
/// object, an IPv6 one 64, and 8 bytes more with an ADD-PATH path id (the thirteenth round made every
/// route 72 bytes into 56 and 72, the fifteenth into these: a table of a million IPv4 routes holds 24 MB
/// less than at first, and the GC copies that much less as the table arrives). Each family has its
/// own class, so an IPv4 prefix takes its 4 bytes, not an IPv6 prefix's 16, and a path id its 4 only
/// on a route that has one; <see cref="Create"/> picks the class. The version is 4 bytes
/// (<see cref="RouteEntry.StampOf"/>). <see cref="Since"/> is whole seconds in 32 bits, all that
/// <c>show route</c> prints; the preference 16 bits, which is BIRD's range (<c>rte.pref</c> is a u16
/// and the config takes 0–65535). A filter may still set any int; such a route keeps its preference in
/// <see cref="WidePreferences"/> instead, so the public meaning is unchanged and the common route
/// pays nothing for the rare one.</para>
/// </remarks>
public abstract class Route : RouteEntry
{
    private const byte StaleFlag = 2;
    private const byte WidePreferenceFlag = 4;

    /// <summary><see cref="Since"/> counts seconds from here: 32 bits reach into 2136.</summary>
    private static readonly long SinceEpochTicks = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;

    /// <summary>Preferences outside 0–65535, by route; weak keys, so an entry goes with its route.</summary>
    private static readonly ConditionalWeakTable<Route, StrongBox<int>> WidePreferences = [];

    private readonly PathAttributes _attributes;
    private readonly Protocol _protocol;
    // The version stamp, claimed once (TryClaimVersion); 0 until then.
    private uint _stamp;
    private readonly uint _sinceSeconds;
    private readonly ushort _preference;
    private readonly byte _prefixLength;
    private readonly byte _flags;

    private Route(in Prefix prefix, PathAttributes attributes, Protocol protocol, int preference, bool stale, uint sinceSeconds)
    {
        _attributes = attributes;
        _protocol = protocol;
        _prefixLength = prefix.Length;
        _sinceSeconds = sinceSeconds;
        var flags = (byte)(stale ? StaleFlag : 0);
        if ((uint)preference <= ushort.MaxValue)
            _preference = (ushort)preference;
        else
        {
            flags |= WidePreferenceFlag;
            WidePreferences.Add(this, new StrongBox<int>(preference));
        }
        _flags = flags;
    }

    /// <summary>
    /// A route for <paramref name="prefix"/> from <paramref name="protocol"/>: its preference unless
    /// <paramref name="preference"/> is given, changed now unless <paramref name="since"/> is given.
    /// </summary>
    public static Route Create(Prefix prefix, PathAttributes attributes, Protocol protocol, uint pathId = 0, int? preference = null, bool stale = false, DateTimeOffset? since = null) =>
        Create(prefix, attributes, protocol, pathId, preference ?? protocol.Preference, stale, SinceSeconds(since ?? protocol.Time.GetUtcNow()));

    private static Route Create(in Prefix prefix, PathAttributes attributes, Protocol protocol, uint pathId, int preference, bool stale, uint sinceSeconds) =>
        (prefix.IsV6, pathId) switch
        {
            (false, 0) => new V4(prefix, attributes, protocol, preference, stale, sinceSeconds),
            (false, _) => new V4WithPathId(prefix, attributes, protocol, pathId, preference, stale, sinceSeconds),
            (true, 0) => new V6(prefix, attributes, protocol, preference, stale, sinceSeconds),
            (true, _) => new V6WithPathId(prefix, attributes, protocol, pathId, preference, stale, sinceSeconds),
        };

    private static uint SinceSeconds(DateTimeOffset time) =>
        (uint)Math.Clamp((time.UtcTicks - SinceEpochTicks) / TimeSpan.TicksPerSecond, 0, uint.MaxValue);

    public PathAttributes Attributes => _attributes;
    public Protocol Protocol => _protocol;
    /// <summary>ADD-PATH path identifier as received (RFC 7911); 0 without ADD-PATH.</summary>
    /// <remarks>Two type checks rather than a virtual call: the export reads it per route and member.</remarks>
    public uint PathId => this switch
    {
        V4WithPathId r => r.Id,
        V6WithPathId r => r.Id,
        _ => 0,
    };

    public int Preference =>
        (_flags & WidePreferenceFlag) == 0 ? _preference : WidePreferences.TryGetValue(this, out var wide) ? wide.Value : 0;

    /// <summary>Kept from a restarting peer until its End-of-RIB (RFC 4724 §4.2).</summary>
    public bool Stale => (_flags & StaleFlag) != 0;

    /// <summary>When this route last changed (the time column of <c>show route</c>), in UTC.</summary>
    public DateTimeOffset Since => new(SinceEpochTicks + _sinceSeconds * TimeSpan.TicksPerSecond, TimeSpan.Zero);

    public Route WithAttributes(PathAttributes attributes) =>
        ReferenceEquals(attributes, Attributes) ? this : Create(Prefix, attributes, Protocol, PathId, Preference, Stale, _sinceSeconds);

    public Route WithPreference(int preference) =>
        preference == Preference ? this : Create(Prefix, Attributes, Protocol, PathId, preference, Stale, _sinceSeconds);

    public Route AsStale() => Stale ? this : Create(Prefix, Attributes, Protocol, PathId, Preference, true, _sinceSeconds);

    /// <summary>Same owner and path: a newer version of this route replaces it.</summary>
    public bool SameSlot(Route other) => ReferenceEquals(Protocol, other.Protocol) && PathId == other.PathId;

    /// <summary>Whether the two describe the same route (so an update changes nothing).</summary>
    public bool SameContent(Route other) =>
        ReferenceEquals(Attributes, other.Attributes) || Attributes.Equals(other.Attributes)
            ? Preference == other.Preference && Stale == other.Stale && SameSlot(other)
            : false;

    /// <summary>As a single-route entry: this route alone (allocates; prefer the indexer or <see cref="Best"/>).</summary>
    public sealed override ImmutableArray<Route> Routes => [this];

    /// <summary>As a single-route entry: this route.</summary>
    public sealed override Route Best => this;

    /// <summary>As a single-route entry: one.</summary>
    public sealed override int Count => 1;

    /// <summary>As a single-route entry: this route at index 0.</summary>
    public sealed override Route this[int index] => index == 0 ? this : throw new ArgumentOutOfRangeException(nameof(index));

    internal sealed override object Payload => this;

    private protected sealed override uint Stamp => Volatile.Read(ref _stamp);

    /// <summary>
    /// Makes this route the entry of <paramref name="version"/>; false when it has a version already
    /// (it was an entry before, here or in another table). Atomic, as two tables' writers may race.
    /// </summary>
    // Inlined by request: the AOT compiler, without a call site to weigh, left it a call per route published.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryClaimVersion(long version) =>
        Interlocked.CompareExchange(ref _stamp, StampOf(version), 0) == 0;

    public sealed override string ToString() => $"{Prefix} [{Protocol.Name}{(PathId != 0 ? $" #{PathId}" : "")}]";

    /// <summary>An IPv4 route: the address in 4 bytes.</summary>
    private class V4(in Prefix prefix, PathAttributes attributes, Protocol protocol, int preference, bool stale, uint sinceSeconds)
        : Route(prefix, attributes, protocol, preference, stale, sinceSeconds)
    {
        private readonly uint _address = (uint)prefix.Lo;

        public sealed override Prefix Prefix => new(0, _address, _prefixLength, false);

        /// <summary>Whether the route is for <paramref name="prefix"/>, without building a <see cref="Rib.Prefix"/>.</summary>
        internal sealed override bool IsFor(in Prefix prefix) =>
            _address == prefix.Lo && prefix.Hi == 0 && _prefixLength == prefix.Length && !prefix.IsV6;
    }

    /// <summary>An IPv4 route received with an ADD-PATH path id.</summary>
    private sealed class V4WithPathId(in Prefix prefix, PathAttributes attributes, Protocol protocol, uint pathId, int preference, bool stale, uint sinceSeconds)
        : V4(prefix, attributes, protocol, preference, stale, sinceSeconds)
    {
        public readonly uint Id = pathId;
    }

    /// <summary>An IPv6 route: the address in two words.</summary>
    private class V6(in Prefix prefix, PathAttributes attributes, Protocol protocol, int preference, bool stale, uint sinceSeconds)
        : Route(prefix, attributes, protocol, preference, stale, sinceSeconds)
    {
        private readonly ulong _hi = prefix.Hi;
        private readonly ulong _lo = prefix.Lo;

        public sealed override Prefix Prefix => new(_hi, _lo, _prefixLength, true);

        internal sealed override bool IsFor(in Prefix prefix) =>
            _lo == prefix.Lo && _hi == prefix.Hi && _prefixLength == prefix.Length && prefix.IsV6;
    }

    /// <summary>An IPv6 route received with an ADD-PATH path id.</summary>
    private sealed class V6WithPathId(in Prefix prefix, PathAttributes attributes, Protocol protocol, uint pathId, int preference, bool stale, uint sinceSeconds)
        : V6(prefix, attributes, protocol, preference, stale, sinceSeconds)
    {
        public readonly uint Id = pathId;
    }
}
