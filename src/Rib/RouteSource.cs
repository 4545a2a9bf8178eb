namespace Calico.Bgp.Rib;

/// <summary>
/// Where a route came from, as BIRD 1.6 names it in filters (<c>source = RTS_BGP</c>).
/// The numbering follows BIRD's <c>RTS_*</c> constants.
/// </summary>
public enum RouteSource : byte
{
    Dummy = 0,
    Static = 1,
    Inherit = 2,
    Device = 3,
    StaticDevice = 4,
    Redirect = 5,
    Rip = 6,
    Ospf = 7,
    OspfIa = 8,
    OspfExt1 = 9,
    OspfExt2 = 10,
    Bgp = 11,
    Pipe = 12,
    Babel = 13,
}

/// <summary>What a route does with packets (BIRD's <c>dest</c>: RTD_*).</summary>
public enum RouteDest : byte
{
    /// <summary>Forward to a gateway (<c>via GW</c>).</summary>
    Router = 0,
    /// <summary>Directly attached to an interface (<c>dev IF</c>).</summary>
    Device = 1,
    Blackhole = 2,
    Unreachable = 3,
    Prohibit = 4,
    /// <summary>Several next hops (<c>merge paths</c>).</summary>
    Multipath = 5,
}

/// <summary>ORIGIN attribute values, RFC 4271 §5.1.1.</summary>
public enum BgpOrigin : byte
{
    Igp = 0,
    Egp = 1,
    Incomplete = 2,
}
