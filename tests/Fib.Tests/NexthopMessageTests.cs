using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Fib.Tests;

/// <summary>RTM_NEWNEXTHOP / RTM_DELNEXTHOP / RTM_GETNEXTHOP bytes laid out by hand from struct nlmsghdr / nhmsg / nlattr (include/uapi/linux/nexthop.h).</summary>
public sealed class NexthopMessageTests
{
    private static byte[] Hex(string s) => Convert.FromHexString(s.Replace(" ", "", StringComparison.Ordinal));

    private static byte[] Write(Action<NetlinkWriter> write)
    {
        using var w = new NetlinkWriter(64);
        write(w);
        return w.Written.ToArray();
    }

    [Fact]
    public void An_onlink_gateway_object_bytes()
    {
        var bytes = Write(w => NexthopMessage.WriteAdd(w, 0x0C000001, IpAddr.Parse("172.16.0.120"), 3, onlink: true, 7));
        Assert.Equal(Hex(
            "30000000 6800 0106 07000000 00000000" + // nlmsghdr: len 48, RTM_NEWNEXTHOP, REQUEST|EXCL|CREATE, seq 7
            "02 00 0c 00 04000000" +                 // nhmsg: AF_INET, scope 0, proto bird, RTNH_F_ONLINK
            "0800 0100 0100000c" +                   // NHA_ID
            "0800 0500 03000000" +                   // NHA_OIF 3
            "0800 0600 ac100078"), bytes);           // NHA_GATEWAY 172.16.0.120
    }

    [Fact]
    public void A_group_object_bytes_hold_each_weight_less_one()
    {
        var bytes = Write(w => NexthopMessage.WriteAddGroup(w, 9, [new NexthopGroupMember(1, 1), new NexthopGroupMember(2, 3)], 1));
        Assert.Equal(Hex(
            "3c000000 6800 0106 01000000 00000000" + // len 60
            "00 00 0c 00 00000000" +                 // nhmsg: AF_UNSPEC, proto bird
            "0800 0100 09000000" +                   // NHA_ID 9
            "1400 0200 01000000 00 00 0000 02000000 02 00 0000" + // NHA_GROUP: {1, weight 1}, {2, weight 3}
            "0600 0300 0000 0000"), bytes);          // NHA_GROUP_TYPE mpath, padded
    }

    [Fact]
    public void A_delete_and_a_dump_set_nothing_but_what_the_kernel_accepts_in_the_header()
    {
        // The kernel refuses either with a protocol, scope or flags in nhmsg ("Invalid values in header").
        Assert.Equal(Hex("20000000 6900 0100 02000000 00000000" + "00 00 00 00 00000000" + "0800 0100 05000000"),
            Write(w => NexthopMessage.WriteDelete(w, 5, 2)));
        Assert.Equal(Hex("18000000 6a00 0103 03000000 00000000" + "00 00 00 00 00000000"),
            Write(w => NexthopMessage.WriteDumpRequest(w, 3)));
    }

    [Fact]
    public void A_dump_entry_parses_back()
    {
        var single = Write(w => NexthopMessage.WriteAdd(w, 42, IpAddr.Parse("fd00::2"), 4, onlink: false, 1))[Nl.HeaderLength..];
        Assert.True(NexthopMessage.TryParse(single, out var n));
        Assert.Equal((42u, Rtnl.AfInet6, Rtnl.ProtoBird, IpAddr.Parse("fd00::2"), 4, false, false), (n.Id, n.Family, n.Protocol, n.Gateway!.Value, n.InterfaceIndex, n.Onlink, n.IsGroup));
        var group = Write(w => NexthopMessage.WriteAddGroup(w, 43, [new NexthopGroupMember(42, 1), new NexthopGroupMember(44, 256)], 1))[Nl.HeaderLength..];
        Assert.True(NexthopMessage.TryParse(group, out var g));
        Assert.Equal([new NexthopGroupMember(42, 1), new NexthopGroupMember(44, 256)], g.Group.ToArray());
        Assert.False(NexthopMessage.TryParse(Hex("02 00 0c 00 00000000"), out _));
    }

    [Fact]
    public void A_route_naming_an_object_carries_its_id_instead_of_its_gateway()
    {
        using var w = new NetlinkWriter(64);
        RouteMessage.WriteAdd(w, new KernelRouteSpec { Prefix = Prefix.Parse("10.233.68.0/24"), Gateway = IpAddr.Parse("172.16.0.120"), OutInterfaceIndex = 3, Onlink = true }, 1, nexthopId: 0x0C000001);
        Assert.Equal(Hex(
            "34000000 1800 0506 01000000 00000000" + // RTM_NEWROUTE, REQUEST|ACK|EXCL|CREATE
            "02 18 00 00 fe 0c 00 01 00000000" +     // rtmsg: no RTNH_F_ONLINK (the object has it)
            "0800 0100 0ae94400" +                   // RTA_DST
            "0800 0f00 fe000000" +                   // RTA_TABLE
            "0800 1e00 0100000c"), w.Written.ToArray()); // RTA_NH_ID
    }

    [Fact]
    public void A_dump_the_kernel_refused_at_its_start_fails_instead_of_reading_as_empty()
    {
        // NLMSG_DONE whose int error is -EINVAL (netlink_dump_done), as the kernel ends a refused dump.
        var done = Hex("14000000 0300 0200 05000000 00000000 eaffffff");
        var interrupted = false;
        var e = Assert.Throws<NetlinkException>(() => RtNetlinkClient.ParseDump<object?>(done, 5, static (_, _) => { }, null, ref interrupted));
        Assert.Equal(Errno.Einval, e.Errno);
        Assert.True(RtNetlinkClient.ParseDump<object?>(Hex("14000000 0300 0200 05000000 00000000 00000000"), 5, static (_, _) => { }, null, ref interrupted));
    }
}
