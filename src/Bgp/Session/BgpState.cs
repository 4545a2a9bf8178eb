using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Speaker.Session;

/// <summary>The session states of RFC 4271 §8.2.2.</summary>
public enum BgpState
{
    Idle,
    Connect,
    Active,
    OpenSent,
    OpenConfirm,
    Established,
}

/// <summary>FSM inputs; the numbers are RFC 4271 §8.1's event numbers.</summary>
public enum FsmEventKind
{
    ManualStart = 1,
    ManualStop = 2,
    /// <summary>
    /// The local system stops the session by itself, such as for an import limit (§8.1.2):
    /// Cease as a ManualStop sends, with <see cref="FsmEvent.Reason"/> as the error to show.
    /// </summary>
    AutomaticStop = 8,
    ConnectRetryTimerExpires = 9,
    HoldTimerExpires = 10,
    KeepaliveTimerExpires = 11,
    TcpConnectionConfirmed = 17,
    TcpConnectionFails = 18,
    BgpOpen = 19,
    BgpHeaderErr = 21,
    BgpOpenMsgErr = 22,
    NotifMsg = 25,
    KeepAliveMsg = 26,
    UpdateMsg = 27,
    UpdateMsgErr = 28,
    /// <summary>RFC 9687 §4: our writes made no progress for the send hold time.</summary>
    SendHoldTimerExpires = 29,
    RouteRefreshMsg = 100,
}

/// <summary>
/// One FSM input with its payload. A ManualStop or AutomaticStop carries the Cease subcode to send
/// and its data (an RFC 9003 shutdown communication for subcodes 2 and 4); an AutomaticStop's
/// <c>Reason</c> is the error it leaves to show, a TcpConnectionFails' the socket's error.
/// </summary>
public readonly record struct FsmEvent(FsmEventKind Kind, OpenMessage? Open = null, BgpError? Error = null, string? Reason = null, CeaseSubcode StopSubcode = CeaseSubcode.AdministrativeShutdown, ReadOnlyMemory<byte> StopData = default)
{
    public static implicit operator FsmEvent(FsmEventKind kind) => new(kind);
}

public enum FsmActionKind
{
    /// <summary>Open a TCP connection to the peer.</summary>
    Connect,
    SendOpen,
    SendKeepalive,
    SendNotification,
    /// <summary>The session is up: start importing and exporting.</summary>
    Established,
    /// <summary>Drop the TCP connection; the session is down.</summary>
    Close,
}

/// <summary>One FSM output for the I/O driver to carry out.</summary>
public readonly record struct FsmAction(FsmActionKind Kind, BgpError? Error = null)
{
    public override string ToString() => Error is { } e ? $"{Kind}({e.Description})" : Kind.ToString();
}
