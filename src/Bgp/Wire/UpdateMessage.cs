using System.Buffers.Binary;

namespace Calico.Bgp.Speaker.Wire;

/// <summary>
/// An UPDATE message held as slices of its body (RFC 4271 §4.3); the fields are read lazily
/// with <see cref="NlriReader"/> and <see cref="AttributeReader"/>.
/// </summary>
public readonly ref struct UpdateMessage
{
    //  +-----------------------------------------------------+
    //  |   Withdrawn Routes Length (2 octets)                |
    //  +-----------------------------------------------------+
    //  |   Withdrawn Routes (variable)                       |
    //  +-----------------------------------------------------+
    //  |   Total Path Attribute Length (2 octets)            |
    //  +-----------------------------------------------------+
    //  |   Path Attributes (variable)                        |
    //  +-----------------------------------------------------+
    //  |   Network Layer Reachability Information (variable) |
    //  +-----------------------------------------------------+

    private UpdateMessage(ReadOnlySpan<byte> withdrawn, ReadOnlySpan<byte> attributes, ReadOnlySpan<byte> nlri)
    {
        Withdrawn = withdrawn;
        Attributes = attributes;
        Nlri = nlri;
    }

    public ReadOnlySpan<byte> Withdrawn { get; }
    public ReadOnlySpan<byte> Attributes { get; }
    public ReadOnlySpan<byte> Nlri { get; }

    /// <summary>An empty UPDATE is the IPv4 unicast End-of-RIB marker (RFC 4724 §2).</summary>
    public bool IsIpv4EndOfRib => Withdrawn.IsEmpty && Attributes.IsEmpty && Nlri.IsEmpty;

    /// <summary>
    /// Splits the body. Inconsistent lengths are "Malformed Attribute List" (RFC 4271 §6.3), a
    /// session reset also under RFC 7606 §4 since the fields cannot be told apart.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> body, out UpdateMessage message, out BgpError? error)
    {
        message = default;
        error = null;
        if (body.Length < 4)
        {
            error = BgpError.Update(UpdateErrorSubcode.MalformedAttributeList);
            return false;
        }
        var wlen = BinaryPrimitives.ReadUInt16BigEndian(body);
        if (2 + wlen + 2 > body.Length)
        {
            error = BgpError.Update(UpdateErrorSubcode.MalformedAttributeList);
            return false;
        }
        var alen = BinaryPrimitives.ReadUInt16BigEndian(body[(2 + wlen)..]);
        if (4 + wlen + alen > body.Length)
        {
            error = BgpError.Update(UpdateErrorSubcode.MalformedAttributeList);
            return false;
        }
        message = new UpdateMessage(body.Slice(2, wlen), body.Slice(4 + wlen, alen), body[(4 + wlen + alen)..]);
        return true;
    }
}
