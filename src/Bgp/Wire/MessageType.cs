namespace Calico.Bgp.Speaker.Wire;

/// <summary>BGP message types, RFC 4271 §4.1 and RFC 2918 §3.</summary>
public enum MessageType : byte
{
    Open = 1,
    Update = 2,
    Notification = 3,
    Keepalive = 4,
    RouteRefresh = 5,
}

/// <summary>Sizes fixed by the RFCs.</summary>
public static class BgpConstants
{
    /// <summary>Marker (16) + length (2) + type (1), RFC 4271 §4.1.</summary>
    public const int HeaderLength = 19;
    /// <summary>RFC 4271 §4: the largest message without RFC 8654.</summary>
    public const int MaxMessageLength = 4096;
    /// <summary>RFC 8654 §4: the largest message with extended messages.</summary>
    public const int MaxExtendedMessageLength = 65535;
    /// <summary>RFC 6793 §9: AS_TRANS stands in for a 4-octet AS in 2-octet fields.</summary>
    public const ushort AsTrans = 23456;
    public const int Port = 179;
}

/// <summary>Address family identifiers and subsequent AFIs, RFC 4760.</summary>
public enum Afi : ushort
{
    Ipv4 = 1,
    Ipv6 = 2,
}

public enum Safi : byte
{
    Unicast = 1,
}
