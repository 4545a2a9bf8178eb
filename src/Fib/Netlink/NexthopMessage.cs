using System.Buffers.Binary;
using System.Collections.Immutable;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Fib.Netlink;

/// <summary>One member of a nexthop group: a nexthop object's id and its weight (1..256).</summary>
public readonly record struct NexthopGroupMember(uint Id, int Weight);

/// <summary>
/// A kernel nexthop object (Linux 5.3) as a dump reads it: a gateway on a device, or a group of
/// other nexthop objects (a multipath route's next hops).
/// </summary>
public readonly record struct NexthopInfo(uint Id, byte Family, byte Protocol, IpAddr? Gateway, int InterfaceIndex, bool Onlink, ImmutableArray<NexthopGroupMember> Group)
{
    public bool IsGroup => !Group.IsDefaultOrEmpty;
}

/// <summary>
/// RTM_NEWNEXTHOP / RTM_DELNEXTHOP / RTM_GETNEXTHOP encoding and dump parsing (include/uapi/linux/nexthop.h):
/// <code>
/// struct nhmsg { u8 nh_family, nh_scope, nh_protocol, resvd; u32 nh_flags; }
/// then NHA_ID, NHA_OIF + NHA_GATEWAY | NHA_GROUP (struct nexthop_grp[]) + NHA_GROUP_TYPE
/// </code>
/// </summary>
public static class NexthopMessage
{
    /// <summary>
    /// An RTM_NEWNEXTHOP for one gateway on a device (NLM_F_CREATE|NLM_F_EXCL: an id already taken,
    /// by us or anyone, fails with EEXIST and is never rewritten), with protocol 12 as our routes.
    /// </summary>
    public static void WriteAdd(NetlinkWriter w, uint id, IpAddr gateway, int interfaceIndex, bool onlink, uint sequence)
    {
        w.BeginMessage(Rtnl.NewNexthop, Nl.FRequest | Nl.FCreate | Nl.FExcl, sequence);
        WriteNhMsg(w, gateway.IsV6 ? Rtnl.AfInet6 : Rtnl.AfInet, Rtnl.ProtoBird, onlink ? Rtnl.NhFOnlink : 0u);
        w.AttributeU32(Rtnl.NhaId, id);
        w.AttributeU32(Rtnl.NhaOif, (uint)interfaceIndex);
        w.AttributeAddress(Rtnl.NhaGateway, gateway);
        w.EndMessage();
    }

    /// <summary>An RTM_NEWNEXTHOP for a multipath group of nexthop objects (NEXTHOP_GRP_TYPE_MPATH).</summary>
    public static void WriteAddGroup(NetlinkWriter w, uint id, ReadOnlySpan<NexthopGroupMember> members, uint sequence)
    {
        w.BeginMessage(Rtnl.NewNexthop, Nl.FRequest | Nl.FCreate | Nl.FExcl, sequence);
        WriteNhMsg(w, Rtnl.AfUnspec, Rtnl.ProtoBird, 0);
        w.AttributeU32(Rtnl.NhaId, id);
        Span<byte> group = stackalloc byte[members.Length * Rtnl.NexthopGroupEntryLength];
        for (var i = 0; i < members.Length; i++)
        {
            var e = group.Slice(i * Rtnl.NexthopGroupEntryLength, Rtnl.NexthopGroupEntryLength);
            BinaryPrimitives.WriteUInt32LittleEndian(e, members[i].Id);
            // The kernel stores weight - 1 in a byte (weight_high, for more than 256, is newer).
            e[4] = (byte)(Math.Clamp(members[i].Weight, 1, 256) - 1);
        }
        w.Attribute(Rtnl.NhaGroup, group);
        Span<byte> type = stackalloc byte[2];
        w.Attribute(Rtnl.NhaGroupType, type);
        w.EndMessage();
    }

    /// <summary>An RTM_DELNEXTHOP by id (a group first: a member in use by a group only shrinks it).</summary>
    public static void WriteDelete(NetlinkWriter w, uint id, uint sequence)
    {
        w.BeginMessage(Rtnl.DelNexthop, Nl.FRequest, sequence);
        // The kernel refuses a delete or a dump whose header has anything but the family set.
        WriteNhMsg(w, Rtnl.AfUnspec, 0, 0);
        w.AttributeU32(Rtnl.NhaId, id);
        w.EndMessage();
    }

    /// <summary>An RTM_GETNEXTHOP dump of every nexthop object, both families and groups.</summary>
    public static void WriteDumpRequest(NetlinkWriter w, uint sequence)
    {
        w.BeginMessage(Rtnl.GetNexthop, Nl.FRequest | Nl.FDump, sequence);
        WriteNhMsg(w, Rtnl.AfUnspec, 0, 0);
        w.EndMessage();
    }

    private static void WriteNhMsg(NetlinkWriter w, byte family, byte protocol, uint flags)
    {
        var m = w.Reserve(Rtnl.NhMsgLength);
        m[0] = family;
        m[2] = protocol;
        BinaryPrimitives.WriteUInt32LittleEndian(m[4..], flags);
    }

    /// <summary>Parses an RTM_NEWNEXTHOP payload (a dump entry); false for one without an id.</summary>
    public static bool TryParse(ReadOnlySpan<byte> payload, out NexthopInfo nexthop)
    {
        nexthop = default;
        if (payload.Length < Rtnl.NhMsgLength)
            return false;
        var family = payload[0];
        var protocol = payload[2];
        var flags = BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]);
        uint id = 0;
        IpAddr? gateway = null;
        var oif = 0;
        var group = ImmutableArray<NexthopGroupMember>.Empty;
        var attrs = new NetlinkAttributeReader(payload[Rtnl.NhMsgLength..]);
        while (attrs.MoveNext())
        {
            var v = attrs.Value;
            switch (attrs.Type)
            {
                case Rtnl.NhaId:
                    id = NetlinkAttributeReader.U32(v);
                    break;
                case Rtnl.NhaOif:
                    oif = (int)NetlinkAttributeReader.U32(v);
                    break;
                case Rtnl.NhaGateway when v.Length is 4 or 16:
                    gateway = IpAddr.FromBytes(v);
                    break;
                case Rtnl.NhaGroup:
                    var members = ImmutableArray.CreateBuilder<NexthopGroupMember>(v.Length / Rtnl.NexthopGroupEntryLength);
                    for (var at = 0; at + Rtnl.NexthopGroupEntryLength <= v.Length; at += Rtnl.NexthopGroupEntryLength)
                        members.Add(new NexthopGroupMember(BinaryPrimitives.ReadUInt32LittleEndian(v[at..]), v[at + 4] + 1 + (v[at + 5] << 8)));
                    group = members.ToImmutable();
                    break;
            }
        }
        if (id == 0)
            return false;
        nexthop = new NexthopInfo(id, family, protocol, gateway, oif, (flags & Rtnl.NhFOnlink) != 0, group);
        return true;
    }
}
