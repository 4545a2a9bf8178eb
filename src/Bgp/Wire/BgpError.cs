namespace Calico.Bgp.Speaker.Wire;

/// <summary>NOTIFICATION error codes, RFC 4271 §4.5 (and RFC 7313 for 7).</summary>
public enum NotificationCode : byte
{
    MessageHeaderError = 1,
    OpenMessageError = 2,
    UpdateMessageError = 3,
    HoldTimerExpired = 4,
    FsmError = 5,
    Cease = 6,
    RouteRefreshError = 7,
    /// <summary>RFC 9687 §5: our writes made no progress for the send hold time.</summary>
    SendHoldTimerExpired = 8,
}

/// <summary>Message Header Error subcodes, RFC 4271 §6.1.</summary>
public enum HeaderErrorSubcode : byte
{
    ConnectionNotSynchronized = 1,
    BadMessageLength = 2,
    BadMessageType = 3,
}

/// <summary>OPEN Message Error subcodes, RFC 4271 §6.2 and RFC 5492 §5.</summary>
public enum OpenErrorSubcode : byte
{
    UnsupportedVersionNumber = 1,
    BadPeerAs = 2,
    BadBgpIdentifier = 3,
    UnsupportedOptionalParameter = 4,
    UnacceptableHoldTime = 6,
    UnsupportedCapability = 7,
}

/// <summary>UPDATE Message Error subcodes, RFC 4271 §6.3.</summary>
public enum UpdateErrorSubcode : byte
{
    MalformedAttributeList = 1,
    UnrecognizedWellKnownAttribute = 2,
    MissingWellKnownAttribute = 3,
    AttributeFlagsError = 4,
    AttributeLengthError = 5,
    InvalidOriginAttribute = 6,
    InvalidNextHopAttribute = 8,
    OptionalAttributeError = 9,
    InvalidNetworkField = 10,
    MalformedAsPath = 11,
}

/// <summary>FSM error subcodes, RFC 6608 §4.</summary>
public enum FsmErrorSubcode : byte
{
    Unspecified = 0,
    UnexpectedInOpenSent = 1,
    UnexpectedInOpenConfirm = 2,
    UnexpectedInEstablished = 3,
}

/// <summary>Cease subcodes, RFC 4486 §4.</summary>
public enum CeaseSubcode : byte
{
    MaximumPrefixes = 1,
    AdministrativeShutdown = 2,
    PeerDeconfigured = 3,
    AdministrativeReset = 4,
    ConnectionRejected = 5,
    OtherConfigurationChange = 6,
    ConnectionCollisionResolution = 7,
    OutOfResources = 8,
}

/// <summary>
/// A BGP error as sent or received in a NOTIFICATION: code, subcode and data. A value, not an
/// exception: parsers return it.
/// </summary>
public readonly record struct BgpError(NotificationCode Code, byte Subcode, ReadOnlyMemory<byte> Data = default)
{
    public static BgpError Header(HeaderErrorSubcode s, ReadOnlyMemory<byte> data = default) => new(NotificationCode.MessageHeaderError, (byte)s, data);
    public static BgpError Open(OpenErrorSubcode s, ReadOnlyMemory<byte> data = default) => new(NotificationCode.OpenMessageError, (byte)s, data);
    public static BgpError Update(UpdateErrorSubcode s, ReadOnlyMemory<byte> data = default) => new(NotificationCode.UpdateMessageError, (byte)s, data);
    public static BgpError Fsm(FsmErrorSubcode s) => new(NotificationCode.FsmError, (byte)s);
    public static BgpError Cease(CeaseSubcode s) => new(NotificationCode.Cease, (byte)s);
    public static BgpError HoldTimerExpired => new(NotificationCode.HoldTimerExpired, 0);
    public static BgpError SendHoldTimerExpired => new(NotificationCode.SendHoldTimerExpired, 0);

    /// <summary>BIRD 1.6's text for the code and subcode (<c>bgp_msg_table</c> in proto/bgp/packets.c).</summary>
    public string Description => Describe(Code, Subcode);

    public static string Describe(NotificationCode code, byte subcode) => ((byte)code, subcode) switch
    {
        (1, 1) => "Connection not synchronized",
        (1, 2) => "Bad message length",
        (1, 3) => "Bad message type",
        (1, _) => "Invalid message header",
        (2, 1) => "Unsupported version number",
        (2, 2) => "Bad peer AS",
        (2, 3) => "Bad BGP identifier",
        (2, 4) => "Unsupported optional parameter",
        (2, 5) => "Authentication failure",
        (2, 6) => "Unacceptable hold time",
        (2, 7) => "Required capability missing",
        (2, _) => "Invalid OPEN message",
        (3, 1) => "Malformed attribute list",
        (3, 2) => "Unrecognized well-known attribute",
        (3, 3) => "Missing mandatory attribute",
        (3, 4) => "Invalid attribute flags",
        (3, 5) => "Invalid attribute length",
        (3, 6) => "Invalid ORIGIN attribute",
        (3, 7) => "AS routing loop",
        (3, 8) => "Invalid NEXT_HOP attribute",
        (3, 9) => "Optional attribute error",
        (3, 10) => "Invalid network field",
        (3, 11) => "Malformed AS_PATH",
        (3, _) => "Invalid UPDATE message",
        (4, _) => "Hold timer expired",
        (5, 1) => "Unexpected message in OpenSent state",
        (5, 2) => "Unexpected message in OpenConfirm state",
        (5, 3) => "Unexpected message in Established state",
        (5, _) => "Finite state machine error",
        (6, 1) => "Maximum number of prefixes reached",
        (6, 2) => "Administrative shutdown",
        (6, 3) => "Peer de-configured",
        (6, 4) => "Administrative reset",
        (6, 5) => "Connection rejected",
        (6, 6) => "Other configuration change",
        (6, 7) => "Connection collision resolution",
        (6, 8) => "Out of Resource",
        (6, _) => "Cease",
        (7, 1) => "Invalid ROUTE-REFRESH message length",
        (7, _) => "Invalid ROUTE-REFRESH message",
        // Not in BIRD 1.6 (it predates RFC 9687); BIRD 2's wording.
        (8, _) => "Send hold timer expired",
        _ => $"Unknown error {(byte)code}.{subcode}",
    };

    public override string ToString() => Description;
}
