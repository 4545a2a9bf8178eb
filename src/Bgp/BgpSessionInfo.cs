using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Session;

namespace Calico.Bgp.Speaker;

/// <summary>A consistent snapshot of a BGP session for <c>show protocols all</c>.</summary>
public sealed record BgpSessionInfo
{
    public required BgpState State { get; init; }
    /// <summary>The BGP state as BIRD names it, including <c>Passive</c> for an idle passive peer.</summary>
    public required string StateName { get; init; }
    public required IpAddr NeighborAddress { get; init; }
    public required uint NeighborAs { get; init; }
    public uint? NeighborId { get; init; }
    public required uint LocalAs { get; init; }
    public IpAddr? SourceAddress { get; init; }
    /// <summary>BIRD's <c>Neighbor caps:</c> line, or null before the peer's OPEN.</summary>
    public string? NeighborCapabilities { get; init; }
    /// <summary>Our capabilities as advertised.</summary>
    public required string LocalCapabilities { get; init; }
    /// <summary>BIRD's <c>Session:</c> flags: internal/external, multihop, AS4, add-path-rx/tx, ext-messages.</summary>
    public string? SessionFlags { get; init; }
    public int? HoldTime { get; init; }
    public int? HoldRemaining { get; init; }
    public int? KeepaliveTime { get; init; }
    public int? KeepaliveRemaining { get; init; }
    public string? LastError { get; init; }
    /// <summary>The peer negotiated graceful restart and its routes are kept stale.</summary>
    public bool NeighborGracefulRestartActive { get; init; }
    public int? RestartTimerRemaining { get; init; }
    public int? RestartTime { get; init; }
    /// <summary>BIRD's <c>Connect delay:</c>: seconds left before connecting, while Active and not passive.</summary>
    public int? ConnectDelayRemaining { get; init; }
    public int? ConnectDelayTime { get; init; }
    /// <summary>BIRD's <c>Error wait:</c>: seconds left of the wait after an error, and its length.</summary>
    public int? ErrorWaitRemaining { get; init; }
    public int? ErrorWaitTime { get; init; }
}
