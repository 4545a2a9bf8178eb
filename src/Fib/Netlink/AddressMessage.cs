using System.Buffers.Binary;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Fib.Netlink;

/// <summary>An interface address as RTM_NEWADDR reports it.</summary>
/// <param name="InterfaceIndex">ifa_index.</param>
/// <param name="Address">IFA_LOCAL (IFA_ADDRESS when there is no local, as for IPv6).</param>
/// <param name="PrefixLength">ifa_prefixlen.</param>
/// <param name="Peer">IFA_ADDRESS when it differs from IFA_LOCAL (point-to-point peer).</param>
/// <param name="Scope">ifa_scope (RT_SCOPE_*).</param>
/// <param name="Flags">IFA_FLAGS or ifa_flags.</param>
public sealed record AddressInfo(int InterfaceIndex, IpAddr Address, int PrefixLength, IpAddr? Peer, byte Scope, uint Flags)
{
    /// <summary>The connected subnet (the peer's host route for a point-to-point address).</summary>
    public Prefix Subnet => Peer is { } p ? new Prefix(p, p.BitLength) : new Prefix(Address, PrefixLength);

    /// <summary>Whether <paramref name="fields"/> describe this address, field by field.</summary>
    public bool Matches(in AddressFields fields) =>
        InterfaceIndex == fields.InterfaceIndex && Address == fields.Address && PrefixLength == fields.PrefixLength
        && Peer == fields.Peer && Scope == fields.Scope && Flags == fields.Flags;
}

/// <summary>
/// RTM_GETADDR dump request and RTM_NEWADDR parsing.
/// <code>
/// struct ifaddrmsg { u8 ifa_family; u8 ifa_prefixlen; u8 ifa_flags; u8 ifa_scope; u32 ifa_index; }
/// </code>
/// </summary>
public static class AddressMessage
{
    public static void WriteDumpRequest(NetlinkWriter w, bool ipv6, uint sequence)
    {
        w.BeginMessage(Rtnl.GetAddr, Nl.FRequest | Nl.FDump, sequence);
        var m = w.Reserve(Rtnl.IfAddrMsgLength);
        m[0] = ipv6 ? Rtnl.AfInet6 : Rtnl.AfInet;
        w.EndMessage();
    }

    public static bool TryParse(ReadOnlySpan<byte> payload, out AddressInfo address)
    {
        address = null!;
        if (!TryRead(payload, out var f))
            return false;
        address = new AddressInfo(f.InterfaceIndex, f.Address, f.PrefixLength, f.Peer, f.Scope, f.Flags);
        return true;
    }

    /// <summary>Reads an RTM_NEWADDR's fields without allocating.</summary>
    public static bool TryRead(ReadOnlySpan<byte> payload, out AddressFields address)
    {
        address = default;
        if (payload.Length < Rtnl.IfAddrMsgLength)
            return false;
        var family = payload[0];
        if (family != Rtnl.AfInet && family != Rtnl.AfInet6)
            return false;
        var prefixLength = payload[1];
        uint flags = payload[2];
        var scope = payload[3];
        var index = (int)BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]);
        IpAddr? local = null;
        IpAddr? addr = null;
        var attrs = new NetlinkAttributeReader(payload[Rtnl.IfAddrMsgLength..]);
        while (attrs.MoveNext())
        {
            var v = attrs.Value;
            switch (attrs.Type)
            {
                case Rtnl.IfaLocal when v.Length is 4 or 16:
                    local = IpAddr.FromBytes(v);
                    break;
                case Rtnl.IfaAddress when v.Length is 4 or 16:
                    addr = IpAddr.FromBytes(v);
                    break;
                case Rtnl.IfaFlags:
                    flags = NetlinkAttributeReader.U32(v);
                    break;
            }
        }
        var own = local ?? addr;
        if (own is null || prefixLength > own.Value.BitLength)
            return false;
        var peer = local is not null && addr is not null && addr != local ? addr : null;
        address = new AddressFields(index, own.Value, prefixLength, peer, scope, flags);
        return true;
    }
}

/// <summary>An RTM_NEWADDR's fields as <see cref="AddressMessage.TryRead"/> finds them: <see cref="AddressInfo"/> as a value.</summary>
public readonly record struct AddressFields(int InterfaceIndex, IpAddr Address, int PrefixLength, IpAddr? Peer, byte Scope, uint Flags);
