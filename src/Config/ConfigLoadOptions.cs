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
    /// Receives the output of the filter <c>print</c> statement and filter runtime errors
    /// (both go to BIRD's log). Null discards them.
    /// </summary>
    public Action<string>? Log { get; init; }
}
