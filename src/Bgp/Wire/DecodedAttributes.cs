using Calico.Bgp.Rib;

namespace Calico.Bgp.Speaker.Wire;

/// <summary>
/// The outcome of decoding an UPDATE's attributes: the attribute set (not yet interned), the
/// MP_REACH/MP_UNREACH parts (RFC 4760 §3–4), and the strongest RFC 7606 action seen.
/// </summary>
public ref struct DecodedAttributes
{
    public PathAttributes Attributes;
    public ErrorAction Action;
    /// <summary>The error for the NOTIFICATION when <see cref="Action"/> is a session reset, or for the log otherwise.</summary>
    public BgpError? Error;
    public bool HasMpReach;
    public AfiSafi MpReachFamily;
    public IpAddr MpNextHop;
    public IpAddr? MpLinkLocalNextHop;
    public ReadOnlySpan<byte> MpReachNlri;
    public bool HasMpUnreach;
    public AfiSafi MpUnreachFamily;
    public ReadOnlySpan<byte> MpUnreachNlri;

    /// <summary>Raises the action to <paramref name="action"/> if stronger, keeping the first error of that strength.</summary>
    public void Raise(ErrorAction action, BgpError error)
    {
        if (action > Action)
        {
            Action = action;
            Error = error;
        }
    }
}

/// <summary>What the decoder needs to know about the session.</summary>
public readonly record struct DecodeContext(bool IsInternal, IpAddr NeighborAddress);
