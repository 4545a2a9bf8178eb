using System.Runtime.CompilerServices;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Speaker.Export;

public sealed partial class UpdateGroup
{
    // What the session rules (ExportPolicy.Prepare) and the rewrite to wire attributes make of each
    // interned attribute set. Both depend only on the set, the source protocol, its options and its
    // session's OPEN (the router id reflection records) and the family, besides the group's key,
    // which is fixed; the key holds all of them, so an answer stays right from pass to pass. A table
    // where 200k routes share a few sets makes a few PathAttributes instead of two (and an AS_PATH)
    // per prefix, and a reflector under churn, one change a pass, makes none per change (with the
    // wire rewrite, a quarter of what P4's daemon allocated; bench/RESULTS-perf.md, nineteenth
    // round). Kept until they hold MemoLimit answers, so the sets and protocols they hold go within
    // a bounded number of passes.
    private const int MemoLimit = 1024;

    private readonly Dictionary<PreparedKey, PathAttributes?> _prepared = new(PreparedKeyComparer.Instance);
    private readonly Dictionary<PathAttributes, PathAttributes> _wire = new(ReferenceEqualityComparer.Instance);

    /// <summary>
    /// What <see cref="ExportPolicy.Prepare(Route, BgpProtocolOptions, IpAddr?)"/> reads besides the
    /// group's key: the set, the source, the family, and for a BGP source its options (a reload
    /// replaces them) and its session's OPEN (a new session, maybe another router id).
    /// </summary>
    private readonly record struct PreparedKey(PathAttributes Attributes, Protocol Source, bool V6, BgpProtocolOptions? SourceOptions, OpenMessage? SourceSession)
    {
        /// <param name="v6">The route's family, from the caller's prefix: a route builds its <see cref="Route.Prefix"/> at each ask.</param>
        public static PreparedKey Of(Route route, bool v6) => route.Protocol is BgpProtocol b
            ? new(route.Attributes, b, v6, b.Options, b.PeerOpenForExport)
            : new(route.Attributes, route.Protocol, v6, null, null);
    }

    // The last answer of each memo: consecutive changes mostly share a set (one UPDATE's prefixes),
    // so most lookups end here without hashing.
    private PreparedKey _lastPreparedKey;
    private PathAttributes? _lastPrepared;
    private PathAttributes? _lastAccepted;
    private PathAttributes? _lastWire;

    /// <summary><see cref="ExportPolicy.Prepare(Route, BgpProtocolOptions, IpAddr?)"/>, interned, once per set and source.</summary>
    private PathAttributes? PrepareOnce(Route route, bool v6)
    {
        var key = PreparedKey.Of(route, v6);
        if (PreparedKeyComparer.Instance.Equals(key, _lastPreparedKey))
            return _lastPrepared;
        if (!_prepared.TryGetValue(key, out var prepared))
        {
            var p = ExportPolicy.Prepare(route, Key.Options, Key.Self);
            _prepared[key] = prepared = p is null ? null : Key.Table.Attributes.Intern(p);
        }
        _lastPreparedKey = key;
        _lastPrepared = prepared;
        return prepared;
    }

    /// <summary>The attributes that travel for an accepted set, interned, once per set.</summary>
    private PathAttributes WireOnce(PathAttributes accepted)
    {
        if (ReferenceEquals(accepted, _lastAccepted))
            return _lastWire!;
        _lastAccepted = accepted;
        if (_wire.TryGetValue(accepted, out var wire))
            return _lastWire = wire;
        // Only BGP attributes travel; the local route's own fields (source, gateway) stay behind.
        var w = accepted with
        {
            Source = RouteSource.Bgp,
            Dest = RouteDest.Router,
            Gateway = null,
            Interface = null,
            NextHops = default,
            // How the route's next hop resolved here means nothing to the peer.
            NextHopUnresolved = false,
            IgpMetric = null,
            Recursive = false,
            From = null,
            KrtMetric = null,
            KrtTunnel = null,
            KrtSource = null,
            // RFC 4271 §5.1.5: LOCAL_PREF never goes to an external peer (a filter may have set it).
            LocalPref = Key.Options.IsInternal ? accepted.LocalPref : null,
        };
        return _lastWire = _wire[accepted] = Key.Table.Attributes.Intern(w);
    }

    /// <summary>Forgets the answers once there are <see cref="MemoLimit"/> of either kind (after a pass).</summary>
    private void TrimMemo()
    {
        if (_prepared.Count < MemoLimit && _wire.Count < MemoLimit)
            return;
        _prepared.Clear();
        _wire.Clear();
        _lastPreparedKey = default;
        _lastPrepared = null;
        _lastAccepted = null;
        _lastWire = null;
    }

    /// <summary>Answers held now (tests).</summary>
    internal (int Prepared, int Wire) MemoCounts => (_prepared.Count, _wire.Count);

    /// <summary>Interned sets and protocols compare by reference: cheap, and what interning promises.</summary>
    private sealed class PreparedKeyComparer : IEqualityComparer<PreparedKey>
    {
        public static readonly PreparedKeyComparer Instance = new();

        public bool Equals(PreparedKey x, PreparedKey y) =>
            ReferenceEquals(x.Attributes, y.Attributes) && ReferenceEquals(x.Source, y.Source) && x.V6 == y.V6
            && ReferenceEquals(x.SourceOptions, y.SourceOptions) && ReferenceEquals(x.SourceSession, y.SourceSession);

        public int GetHashCode(PreparedKey k) =>
            HashCode.Combine(RuntimeHelpers.GetHashCode(k.Attributes), RuntimeHelpers.GetHashCode(k.Source), k.V6);
    }
}
