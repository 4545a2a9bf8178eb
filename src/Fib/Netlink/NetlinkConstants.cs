namespace Calico.Bgp.Fib.Netlink;

/// <summary>Netlink framing constants (include/uapi/linux/netlink.h).</summary>
public static class Nl
{
    public const int AfNetlink = 16;
    public const int NetlinkRoute = 0;
    public const int SolNetlink = 270;

    /// <summary>NETLINK_ADD_MEMBERSHIP socket option.</summary>
    public const int AddMembership = 1;
    /// <summary>NETLINK_CAP_ACK: error replies carry only the request header, not its payload.</summary>
    public const int CapAck = 10;
    /// <summary>NETLINK_EXT_ACK: error replies carry the kernel's message text (NLMSGERR_ATTR_MSG).</summary>
    public const int ExtAck = 11;

    public const int HeaderLength = 16;
    public const int Alignment = 4;

    // Message types (nlmsghdr.nlmsg_type below NLMSG_MIN_TYPE).
    public const ushort Noop = 1;
    public const ushort Error = 2;
    public const ushort Done = 3;
    public const ushort Overrun = 4;

    // Flags (nlmsghdr.nlmsg_flags).
    public const ushort FRequest = 0x1;
    public const ushort FMulti = 0x2;
    public const ushort FAck = 0x4;
    public const ushort FDumpIntr = 0x10;
    public const ushort FRoot = 0x100;
    public const ushort FMatch = 0x200;
    public const ushort FDump = FRoot | FMatch;
    public const ushort FReplace = 0x100;
    public const ushort FExcl = 0x200;
    public const ushort FCreate = 0x400;

    /// <summary>In an NLMSG_ERROR reply: the request was capped (NETLINK_CAP_ACK).</summary>
    public const ushort FCapped = 0x100;
    /// <summary>In an NLMSG_ERROR reply: extended ack TLVs follow.</summary>
    public const ushort FAckTlvs = 0x200;

    /// <summary>NLMSGERR_ATTR_MSG: the extended ack's text.</summary>
    public const ushort ErrAttrMsg = 1;

    public static int Align(int length) => (length + Alignment - 1) & ~(Alignment - 1);
}

/// <summary>rtnetlink message types and attributes (include/uapi/linux/rtnetlink.h, if_link.h, if_addr.h).</summary>
public static class Rtnl
{
    public const ushort NewLink = 16;
    public const ushort DelLink = 17;
    public const ushort GetLink = 18;
    public const ushort NewAddr = 20;
    public const ushort DelAddr = 21;
    public const ushort GetAddr = 22;
    public const ushort NewRoute = 24;
    public const ushort DelRoute = 25;
    public const ushort GetRoute = 26;
    public const ushort NewNexthop = 104;
    public const ushort DelNexthop = 105;
    public const ushort GetNexthop = 106;

    public const byte AfUnspec = 0;
    public const byte AfInet = 2;
    public const byte AfInet6 = 10;

    /// <summary>struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags(u32).</summary>
    public const int RtMsgLength = 12;
    /// <summary>struct ifinfomsg: family, pad, type(u16), index(i32), flags(u32), change(u32).</summary>
    public const int IfInfoMsgLength = 16;
    /// <summary>struct ifaddrmsg: family, prefixlen, flags, scope, index(u32).</summary>
    public const int IfAddrMsgLength = 8;
    /// <summary>struct rtnexthop: len(u16), flags, hops, ifindex(i32).</summary>
    public const int RtNexthopLength = 8;
    /// <summary>struct nhmsg: family, scope, protocol, resvd, flags(u32) (include/uapi/linux/nexthop.h).</summary>
    public const int NhMsgLength = 8;
    /// <summary>struct nexthop_grp: id(u32), weight (weight - 1), weight_high, resvd2(u16).</summary>
    public const int NexthopGroupEntryLength = 8;

    // enum rtattr_type_t
    public const ushort RtaDst = 1;
    public const ushort RtaOif = 4;
    public const ushort RtaGateway = 5;
    public const ushort RtaPriority = 6;
    public const ushort RtaPrefSrc = 7;
    public const ushort RtaMultipath = 9;
    public const ushort RtaTable = 15;
    /// <summary>RTA_NH_ID: the route uses a nexthop object (Linux 5.3).</summary>
    public const ushort RtaNhId = 30;

    // enum nexthop attributes (include/uapi/linux/nexthop.h)
    public const ushort NhaId = 1;
    public const ushort NhaGroup = 2;
    public const ushort NhaGroupType = 3;
    public const ushort NhaBlackhole = 4;
    public const ushort NhaOif = 5;
    public const ushort NhaGateway = 6;

    // rtm_protocol
    public const byte ProtoUnspec = 0;
    public const byte ProtoRedirect = 1;
    public const byte ProtoKernel = 2;
    public const byte ProtoBoot = 3;
    public const byte ProtoStatic = 4;
    public const byte ProtoBird = 12;

    // rtm_scope
    public const byte ScopeUniverse = 0;
    public const byte ScopeLink = 253;
    public const byte ScopeHost = 254;

    // rtm_table
    public const byte TableUnspec = 0;
    public const byte TableMain = 254;
    public const byte TableLocal = 255;

    /// <summary>RTM_F_CLONED: a cache entry, not a route.</summary>
    public const uint RtmFCloned = 0x200;
    /// <summary>RTM_F_FIB_MATCH: a lookup answers with the FIB route that matched, not a resolved one.</summary>
    public const uint RtmFFibMatch = 0x2000;

    // rtnh_flags
    public const byte NhFOnlink = 4;

    // IFLA_*
    public const ushort IflaAddress = 1;
    public const ushort IflaIfName = 3;
    public const ushort IflaMtu = 4;
    public const ushort IflaMaster = 10;
    public const ushort IflaLinkInfo = 18;
    public const ushort IflaInfoKind = 1;

    // IFA_*
    public const ushort IfaAddress = 1;
    public const ushort IfaLocal = 2;
    public const ushort IfaFlags = 8;

    // IFF_*
    public const uint IffUp = 0x1;
    public const uint IffLoopback = 0x8;
    public const uint IffRunning = 0x40;
    public const uint IffLowerUp = 0x10000;

    // rtnetlink multicast groups (enum rtnetlink_groups)
    public const int GroupLink = 1;
    public const int GroupIpv4Ifaddr = 5;
    public const int GroupIpv4Route = 7;
    public const int GroupIpv6Ifaddr = 9;
    public const int GroupIpv6Route = 11;
}

/// <summary>errno values the FIB names (asm-generic/errno-base.h, errno.h).</summary>
public static class Errno
{
    public const int Eperm = 1;
    public const int Enoent = 2;
    public const int Esrch = 3;
    public const int Eintr = 4;
    public const int Eagain = 11;
    public const int Enodev = 19;
    public const int Einval = 22;
    public const int Enobufs = 105;
    public const int Eexist = 17;
    public const int Enetunreach = 101;
    public const int Ehostunreach = 113;
    public const int Eopnotsupp = 95;
    public const int Eafnosupport = 97;

    /// <summary>The C library's text for an errno (strerror), for logs.</summary>
    public static string Describe(int errno) => errno switch
    {
        0 => "Success",
        Eperm => "Operation not permitted",
        Enoent => "No such file or directory",
        Esrch => "No such process",
        Eexist => "File exists",
        Enodev => "No such device",
        Einval => "Invalid argument",
        Enetunreach => "Network is unreachable",
        Ehostunreach => "No route to host",
        Enobufs => "No buffer space available",
        Eopnotsupp => "Operation not supported",
        Eafnosupport => "Address family not supported by protocol",
        _ => $"errno {errno}",
    };
}
