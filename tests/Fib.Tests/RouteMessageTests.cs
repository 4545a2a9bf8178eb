using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Fib.Tests;

/// <summary>RTM_NEWROUTE bytes laid out by hand from struct nlmsghdr / rtmsg / rtattr / rtnexthop (host order, x86-64).</summary>
public sealed class RouteMessageTests
{
    private static byte[] Encode(KernelRouteSpec route, bool replace = false)
    {
        using var w = new NetlinkWriter(64);
        RouteMessage.WriteAdd(w, route, 1, replace);
        return w.Written.ToArray();
    }

    private static byte[] Hex(string s) => Convert.FromHexString(s.Replace(" ", "", StringComparison.Ordinal));

    [Fact]
    public void Blackhole_route_bytes()
    {
        var bytes = Encode(new KernelRouteSpec { Prefix = Prefix.Parse("10.233.89.0/24"), Type = KernelRouteType.Blackhole });
        Assert.Equal(Hex(
            "2c000000 1800 0506 01000000 00000000" + // nlmsghdr: len 44, RTM_NEWROUTE, REQUEST|ACK|EXCL|CREATE, seq 1
            "02 18 00 00 fe 0c 00 06 00000000" +     // rtmsg: AF_INET /24, main, proto bird, universe, RTN_BLACKHOLE
            "0800 0100 0ae95900" +                    // RTA_DST
            "0800 0f00 fe000000"), bytes);            // RTA_TABLE 254
    }

    [Fact]
    public void Onlink_gateway_route_bytes()
    {
        var bytes = Encode(new KernelRouteSpec
        {
            Prefix = Prefix.Parse("10.233.68.0/24"),
            Gateway = IpAddr.Parse("172.16.0.120"),
            OutInterfaceIndex = 3,
            Onlink = true,
            Metric = 1024,
        }, replace: true);
        Assert.Equal(Hex(
            "44000000 1800 0505 01000000 00000000" + // REQUEST|ACK|REPLACE|CREATE
            "02 18 00 00 fe 0c 00 01 04000000" +     // RTN_UNICAST, rtm_flags RTNH_F_ONLINK
            "0800 0100 0ae94400" +
            "0800 0f00 fe000000" +
            "0800 0600 00040000" +                    // RTA_PRIORITY 1024
            "0800 0400 03000000" +                    // RTA_OIF 3
            "0800 0500 ac100078"), bytes);            // RTA_GATEWAY 172.16.0.120
    }

    [Fact]
    public void Multipath_route_bytes()
    {
        var bytes = Encode(new KernelRouteSpec
        {
            Prefix = Prefix.Parse("10.9.0.0/24"),
            NextHops = [new KernelNextHop(IpAddr.Parse("172.16.0.2"), 2), new KernelNextHop(IpAddr.Parse("172.16.0.3"), 2, Onlink: true)],
        });
        Assert.Equal(Hex(
            "50000000 1800 0506 01000000 00000000" +
            "02 18 00 00 fe 0c 00 01 00000000" +
            "0800 0100 0a090000" +
            "0800 0f00 fe000000" +
            "2400 0900" +                                    // RTA_MULTIPATH, 36 bytes
            "1000 00 00 02000000 0800 0500 ac100002" +       // rtnexthop len 16, flags 0, hops 0, ifindex 2; RTA_GATEWAY
            "1000 04 00 02000000 0800 0500 ac100003"), bytes); // RTNH_F_ONLINK
    }

    [Fact]
    public void Written_routes_parse_back_to_the_same_route()
    {
        var routes = new[]
        {
            new KernelRouteSpec { Prefix = Prefix.Parse("10.233.68.0/24"), Gateway = IpAddr.Parse("172.16.0.120"), OutInterfaceIndex = 3, Onlink = true, Metric = 1024 },
            new KernelRouteSpec { Prefix = Prefix.Parse("fd00:1::/64"), Type = KernelRouteType.Unreachable, Table = 300 },
            new KernelRouteSpec { Prefix = Prefix.Parse("10.9.0.0/24"), NextHops = [new KernelNextHop(IpAddr.Parse("172.16.0.2"), 2), new KernelNextHop(IpAddr.Parse("172.16.0.3"), 4, true)] },
        };
        foreach (var route in routes)
        {
            var bytes = Encode(route);
            var reader = new NetlinkMessageReader(bytes);
            Assert.True(reader.MoveNext());
            Assert.Equal(Rtnl.NewRoute, reader.Current.Type);
            Assert.True(RouteMessage.TryParse(reader.Current.Payload, out var parsed));
            Assert.True(route.Matches(parsed), $"{route} vs {parsed}");
            Assert.Equal(route.Table, parsed.Table);
            Assert.False(reader.MoveNext());
        }
    }

    [Fact]
    public void Parsing_in_place_reads_the_same_route_and_tells_a_held_one_apart_from_a_changed_one()
    {
        var routes = new[]
        {
            new KernelRouteSpec { Prefix = Prefix.Parse("10.233.68.0/24"), Gateway = IpAddr.Parse("172.16.0.120"), OutInterfaceIndex = 3, Onlink = true, Metric = 1024 },
            new KernelRouteSpec { Prefix = Prefix.Parse("fd00:1::/64"), Type = KernelRouteType.Unreachable, Table = 300 },
            new KernelRouteSpec { Prefix = Prefix.Parse("10.9.0.0/24"), NextHops = [new KernelNextHop(IpAddr.Parse("172.16.0.2"), 2), new KernelNextHop(IpAddr.Parse("172.16.0.3"), 4, true)] },
        };
        var hops = new List<KernelNextHop>();
        foreach (var route in routes)
        {
            var reader = new NetlinkMessageReader(Encode(route));
            Assert.True(reader.MoveNext());
            Assert.True(RouteMessage.TryParse(reader.Current.Payload, out var held));
            Assert.True(RouteMessage.TryParse(reader.Current.Payload, out RouteFields fields, out var multipath));
            RouteMessage.ReadHops(multipath, hops);
            var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(hops);
            Assert.Equal(route.NextHops.IsDefaultOrEmpty ? 0 : route.NextHops.Length, hops.Count);
            // The held object (as an earlier dump built it) stands for the route read now.
            Assert.True(fields.SameAs(held, span), $"{held}");
            Assert.Equal(held, fields.ToSpec(span) with { NextHops = held.NextHops });
            Assert.True(route.Matches(fields.ToSpec(span)));
            // Any change in what the kernel holds makes it a different route.
            Assert.False(fields.SameAs(held with { Metric = 7 }, span));
            Assert.False(fields.SameAs(held with { Flags = held.Flags | Rtnl.RtmFCloned }, span));
            if (hops.Count > 0)
            {
                hops[^1] = hops[^1] with { Gateway = IpAddr.Parse("172.16.0.9") };
                Assert.False(fields.SameAs(held, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(hops)));
            }
            else
            {
                Assert.False(fields.SameAs(held with { NextHops = [new KernelNextHop(route.Gateway, 2)] }, span));
            }
        }
    }

    [Fact]
    public void Delete_names_prefix_table_priority_and_our_protocol_only()
    {
        using var w = new NetlinkWriter(64);
        RouteMessage.WriteDelete(w, new KernelRouteSpec { Prefix = Prefix.Parse("10.1.0.0/16"), Gateway = IpAddr.Parse("10.0.0.1") }, 7);
        Assert.Equal(Hex(
            "34000000 1900 0500 07000000 00000000" + // RTM_DELROUTE, REQUEST|ACK
            "02 10 00 00 fe 0c ff 00 00000000" +     // scope RT_SCOPE_NOWHERE: any
            "0800 0100 0a010000" +
            "0800 0f00 fe000000" +
            "0800 0600 00000000"), w.Written.ToArray());
    }

    [Fact]
    public void An_error_reply_yields_the_errno_and_the_extended_ack_text()
    {
        // NLMSG_ERROR, flags CAPPED|ACK_TLVS: error -101, the request's header, NLMSGERR_ATTR_MSG "Nexthop has invalid gateway".
        var text = "Nexthop has invalid gateway\0"u8.ToArray();
        using var w = new NetlinkWriter(128);
        w.BeginMessage(Nl.Error, Nl.FCapped | Nl.FAckTlvs, 9);
        BitConverter.TryWriteBytes(w.Reserve(4), -101);
        var inner = w.Reserve(16);
        BitConverter.TryWriteBytes(inner[8..], 9u);
        w.Attribute(Nl.ErrAttrMsg, text);
        w.EndMessage();
        var reader = new NetlinkMessageReader(w.Written.Span);
        Assert.True(reader.MoveNext());
        var result = NetlinkResult.Parse(reader.Current);
        Assert.Equal(Errno.Enetunreach, result.Errno);
        Assert.Equal("Nexthop has invalid gateway", result.Message);
        Assert.Contains("Network is unreachable", result.ToString(), StringComparison.Ordinal);
    }
}
