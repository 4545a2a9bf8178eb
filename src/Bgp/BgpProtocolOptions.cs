using System.Net.Sockets;
using System.Reflection;
using System.Text;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Speaker;

/// <summary>
/// One BGP <c>protocol</c> block of the config, in BIRD 1.6's terms and defaults.
/// </summary>
public sealed record BgpProtocolOptions
{
    public required string Name { get; init; }
    public required uint RouterId { get; init; }
    public required uint LocalAs { get; init; }
    public required IpAddr NeighborAddress { get; init; }
    public int NeighborPort { get; init; } = BgpConstants.Port;
    public required uint PeerAs { get; init; }
    /// <summary>BIRD's <c>source address</c> / <c>local ADDR</c>: bound before connecting, and the next hop we announce.</summary>
    public IpAddr? SourceAddress { get; init; }
    public bool Passive { get; init; }
    public int HoldTime { get; init; } = 240;
    public int? KeepaliveTime { get; init; }
    public int ConnectRetryTime { get; init; } = 120;
    public int ConnectDelayTime { get; init; } = 5;
    public int ErrorWaitMin { get; init; } = 60;
    public int ErrorWaitMax { get; init; } = 300;
    public int StartupHoldTime { get; init; } = 240;
    /// <summary>BIRD 2's <c>send hold time</c> (RFC 9687): null is the RFC's default, 0 turns it off.</summary>
    public int? SendHoldTime { get; init; }
    public RouteFilter ImportFilter { get; init; } = RouteFilter.AcceptAll;
    /// <summary>BIRD's default export for BGP is <c>none</c>.</summary>
    public RouteFilter ExportFilter { get; init; } = RouteFilter.RejectAll;
    /// <summary>BIRD's <c>import limit</c>; null is no limit (BIRD's default).</summary>
    public ImportLimit? ImportLimit { get; init; }
    public string? Description { get; init; }
    public bool NextHopSelf { get; init; }
    public bool NextHopKeep { get; init; }
    /// <summary>BIRD's <c>gateway recursive</c> (kept for the daemon; next hops are used as received).</summary>
    public bool GatewayRecursive { get; init; }
    public bool GracefulRestart { get; init; }
    public int GracefulRestartTime { get; init; } = 120;
    public AddPathMode AddPaths { get; init; }
    /// <summary>BIRD's <c>multihop [N]</c>: null is a direct session.</summary>
    public int? Multihop { get; init; }
    /// <summary>RFC 5082 GTSM: TTL 255 sent, IP_MINTTL enforced.</summary>
    public bool TtlSecurity { get; init; }
    /// <summary>TCP MD5 signature key (RFC 2385).</summary>
    public string? Password { get; init; }
    public bool RrClient { get; init; }
    public uint? RrClusterId { get; init; }
    /// <summary>BIRD's <c>allow local as [N]</c>: how many times our AS may appear in a received AS_PATH.</summary>
    public int? AllowLocalAs { get; init; }
    public int Preference { get; init; } = 100;
    public bool Ipv4 { get; init; } = true;
    public bool Ipv6 { get; init; }
    /// <summary>
    /// Creates the TCP sockets (connecting and, via <see cref="BgpListener"/>, listening). Tests use it to
    /// create sockets inside a network namespace; null uses <c>new Socket(family, Stream, Tcp)</c>.
    /// </summary>
    public Func<AddressFamily, Socket>? SocketFactory { get; init; }

    public bool IsInternal => LocalAs == PeerAs;

    /// <summary>The cluster id used for route reflection (RFC 4456 §7): the configured one or the router id.</summary>
    public uint ClusterId => RrClusterId ?? RouterId;

    /// <summary>What <see cref="ToString"/> prints in place of the MD5 key.</summary>
    public const string RedactedPassword = "***";

    /// <summary>
    /// The record's print, without the secret: the generated one lists every property, the TCP MD5
    /// key included, and options end up in logs and exception messages. Every other property is
    /// printed as the generated print would, so a property added later shows up without a change here.
    /// </summary>
    private bool PrintMembers(StringBuilder builder)
    {
        var first = true;
        foreach (var property in typeof(BgpProtocolOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (!first)
                builder.Append(", ");
            first = false;
            builder.Append(property.Name).Append(" = ");
            if (property.Name == nameof(Password))
                builder.Append(Password is null ? "" : RedactedPassword);
            else
                builder.Append(property.GetValue(this));
        }
        return true;
    }
}
