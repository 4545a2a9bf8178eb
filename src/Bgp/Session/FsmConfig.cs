using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Speaker.Session;

/// <summary>What the FSM needs from the protocol's options.</summary>
public sealed record FsmConfig
{
    public required uint LocalAs { get; init; }
    public required uint PeerAs { get; init; }
    public required uint RouterId { get; init; }
    public int HoldTime { get; init; } = 240;
    public int? KeepaliveTime { get; init; }
    public int ConnectRetryTime { get; init; } = 120;
    /// <summary>BIRD's <c>startup hold time</c>: the hold timer while waiting for the peer's OPEN.</summary>
    public int StartupHoldTime { get; init; } = 240;
    /// <summary>
    /// BIRD 2's <c>send hold time</c> (RFC 9687): null uses the RFC's default, 0 turns the timer
    /// off. See <see cref="BgpFsm.SendHoldTime"/> for the value a session uses.
    /// </summary>
    public int? SendHoldTime { get; init; }
    public bool Passive { get; init; }
    /// <summary>
    /// BIRD's <c>connect delay time</c> (<c>bgp_active</c>): when set, a start and a failed connection
    /// go to Active and wait this long (at least 1 s) before connecting; when null, a start connects
    /// at once (RFC 4271 §8.2.2 Idle, event 1).
    /// </summary>
    public int? ConnectDelayTime { get; init; }
    public required CapabilitySet Capabilities { get; init; }

    public bool IsInternal => LocalAs == PeerAs;
}
