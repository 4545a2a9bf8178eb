namespace Calico.Bgp.Speaker.Wire;

/// <summary>
/// Everything negotiated at OPEN that changes how messages are read and written (RustyBGP's
/// peer codec). Immutable; readers and writers take it by <c>in</c>.
/// </summary>
public readonly record struct BgpCodec(bool FourOctetAs, bool ExtendedMessages, AddPathMode AddPathIpv4, AddPathMode AddPathIpv6)
{
    /// <summary>The codec before OPEN: 2-octet AS, 4096-byte messages, no ADD-PATH.</summary>
    public static BgpCodec Default => default;

    public int MaxMessageLength => ExtendedMessages ? BgpConstants.MaxExtendedMessageLength : BgpConstants.MaxMessageLength;

    /// <summary>Whether NLRI we receive for <paramref name="v6"/> carry path identifiers.</summary>
    public bool ReceivesPathId(bool v6) => ((v6 ? AddPathIpv6 : AddPathIpv4) & AddPathMode.Rx) != 0;

    /// <summary>Whether NLRI we send for <paramref name="v6"/> carry path identifiers.</summary>
    public bool SendsPathId(bool v6) => ((v6 ? AddPathIpv6 : AddPathIpv4) & AddPathMode.Tx) != 0;

    /// <summary>
    /// Combines both OPENs: 4-octet AS and extended messages need both sides (RFC 6793 §4,
    /// RFC 8654 §3); ADD-PATH receive on our side needs send on theirs (RFC 7911 §4).
    /// </summary>
    public static BgpCodec Negotiate(CapabilitySet ours, CapabilitySet theirs)
    {
        AddPathMode Mode(AfiSafi f)
        {
            var mine = ours.AddPathFor(f);
            var peer = theirs.AddPathFor(f);
            var m = AddPathMode.None;
            if ((mine & AddPathMode.Rx) != 0 && (peer & AddPathMode.Tx) != 0)
                m |= AddPathMode.Rx;
            if ((mine & AddPathMode.Tx) != 0 && (peer & AddPathMode.Rx) != 0)
                m |= AddPathMode.Tx;
            return m;
        }
        return new BgpCodec(
            ours.FourOctetAs is not null && theirs.FourOctetAs is not null,
            ours.ExtendedMessage && theirs.ExtendedMessage,
            Mode(AfiSafi.Ipv4Unicast),
            Mode(AfiSafi.Ipv6Unicast));
    }
}
