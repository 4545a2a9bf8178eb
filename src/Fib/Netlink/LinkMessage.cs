using System.Buffers.Binary;

namespace Calico.Bgp.Fib.Netlink;

/// <summary>A network interface as RTM_NEWLINK reports it.</summary>
/// <param name="Index">ifi_index.</param>
/// <param name="Name">IFLA_IFNAME.</param>
/// <param name="Kind">IFLA_INFO_KIND (veth, vxlan, dummy, bridge …) or "" for a plain device.</param>
/// <param name="Flags">ifi_flags (IFF_UP, IFF_LOOPBACK, IFF_LOWER_UP …).</param>
/// <param name="Mtu">IFLA_MTU.</param>
/// <param name="LinkType">ifi_type (ARPHRD_*).</param>
public sealed record LinkInfo(int Index, string Name, string Kind, uint Flags, uint Mtu, ushort LinkType)
{
    public bool IsUp => (Flags & Rtnl.IffUp) != 0;
    public bool IsLowerUp => (Flags & Rtnl.IffLowerUp) != 0;
    public bool IsLoopback => (Flags & Rtnl.IffLoopback) != 0;
}

/// <summary>
/// RTM_GETLINK dump request and RTM_NEWLINK parsing.
/// <code>
/// struct ifinfomsg { u8 ifi_family; u8 pad; u16 ifi_type; s32 ifi_index; u32 ifi_flags; u32 ifi_change; }
/// </code>
/// </summary>
public static class LinkMessage
{
    public static void WriteDumpRequest(NetlinkWriter w, uint sequence)
    {
        w.BeginMessage(Rtnl.GetLink, Nl.FRequest | Nl.FDump, sequence);
        w.Reserve(Rtnl.IfInfoMsgLength);
        w.EndMessage();
    }

    public static bool TryParse(ReadOnlySpan<byte> payload, out LinkInfo link)
    {
        link = null!;
        if (payload.Length < Rtnl.IfInfoMsgLength)
            return false;
        var type = BinaryPrimitives.ReadUInt16LittleEndian(payload[2..]);
        var index = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
        var flags = BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]);
        string? name = null;
        var kind = "";
        uint mtu = 0;
        var attrs = new NetlinkAttributeReader(payload[Rtnl.IfInfoMsgLength..]);
        while (attrs.MoveNext())
        {
            switch (attrs.Type)
            {
                case Rtnl.IflaIfName:
                    name = NetlinkAttributeReader.String(attrs.Value);
                    break;
                case Rtnl.IflaMtu:
                    mtu = NetlinkAttributeReader.U32(attrs.Value);
                    break;
                case Rtnl.IflaLinkInfo:
                    var info = new NetlinkAttributeReader(attrs.Value);
                    while (info.MoveNext())
                    {
                        if (info.Type == Rtnl.IflaInfoKind)
                            kind = NetlinkAttributeReader.String(info.Value);
                    }
                    break;
            }
        }
        if (name is null)
            return false;
        link = new LinkInfo(index, name, kind, flags, mtu, type);
        return true;
    }
}
