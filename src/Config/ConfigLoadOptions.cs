namespace Calico.Bgp.Config;

/// <summary>How a configuration is read.</summary>
public sealed record ConfigLoadOptions
{
    /// <summary>
    /// Read the file as <c>bird6</c> does (BIRD 1.6 protocols are single-family): addresses and
    /// prefixes in routes, neighbors and filters are IPv6; <c>router id</c> stays IPv4-looking.
    /// </summary>
    public bool Ipv6 { get; init; }

    /// <summary>
    /// Read the file for one daemon running both families (our <c>--dual-stack</c>; BIRD 1.6 has no
    /// such mode): addresses and prefixes of either family are accepted wherever one is wanted, and
    /// <see cref="Ipv6"/> is ignored. Each BGP session takes its family from its neighbor address.
    /// </summary>
    public bool DualStack { get; init; }

    /// <summary>
    /// Receives the output of the filter <c>print</c> statement and filter runtime errors
    /// (both go to BIRD's log). Null discards them.
    /// </summary>
    public Action<string>? Log { get; init; }
}
