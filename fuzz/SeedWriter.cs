using System.Buffers;
using System.Collections.Immutable;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Fuzz;

/// <summary>
/// Writes the binary seeds of the bgp and netlink targets with our own encoders, so the corpus
/// follows the codecs: <c>calico-bgp-fuzz --seeds DIR</c> fills DIR/bgp and DIR/netlink.
/// </summary>
internal static class SeedWriter
{
    /// <summary>Codec selector bytes of the bgp target (see <see cref="BgpTarget"/>).</summary>
    private const byte TwoOctet = 0, FourOctet = 1, FourOctetAddPath = 1 | 4 | 8 | 16, Extended = 1 | 2;

    public static void Write(string dir)
    {
        var bgp = Directory.CreateDirectory(Path.Combine(dir, "bgp")).FullName;
        foreach (var (name, mode, bytes) in Bgp())
            File.WriteAllBytes(Path.Combine(bgp, name), [mode, 0, .. bytes]);
        var netlink = Directory.CreateDirectory(Path.Combine(dir, "netlink")).FullName;
        foreach (var (name, bytes) in Netlink())
            File.WriteAllBytes(Path.Combine(netlink, name), bytes);
    }

    private static IEnumerable<(string Name, byte Mode, byte[] Bytes)> Bgp()
    {
        var caps = new CapabilitySet
        {
            Families = [AfiSafi.Ipv4Unicast, AfiSafi.Ipv6Unicast],
            RouteRefresh = true,
            EnhancedRouteRefresh = true,
            FourOctetAs = 4200000001,
            ExtendedMessage = true,
            GracefulRestart = true,
            GracefulRestartTime = 120,
            GracefulRestartFamilies = [AfiSafi.Ipv4Unicast],
            AddPath = new Dictionary<AfiSafi, AddPathMode> { [AfiSafi.Ipv4Unicast] = AddPathMode.Rx | AddPathMode.Tx },
        };
        yield return ("open-caps", TwoOctet, Message(w => OpenMessage.Create(4200000001, 240, 0x0A000002, caps).Write(w)));
        yield return ("open-plain", TwoOctet, Message(w => OpenMessage.Create(64512, 90, 0x0A000002, new CapabilitySet()).Write(w)));
        yield return ("keepalive-notification", TwoOctet, Message(w =>
        {
            KeepaliveMessage.Write(w);
            NotificationMessage.Write(w, new BgpError(NotificationCode.Cease, 2, "shutdown"u8.ToArray()));
        }));
        yield return ("route-refresh", TwoOctet, Message(w => new RouteRefreshMessage(AfiSafi.Ipv6Unicast, 1).Write(w)));

        var v4 = new PathAttributes
        {
            Source = RouteSource.Bgp,
            Origin = BgpOrigin.Igp,
            AsPath = new AsPath([new AsPathSegment(AsPathSegmentType.Sequence, [64512, 4200000001]), new AsPathSegment(AsPathSegmentType.Set, [1, 2])]),
            NextHop = IpAddr.Parse("10.0.0.2"),
            Med = 5,
            LocalPref = 100,
            AtomicAggregate = true,
            AggregatorAs = 4200000001,
            AggregatorAddress = IpAddr.Parse("10.0.0.9"),
            Communities = [Community.FromRaw(0xFDE80064)],
            ExtendedCommunities = [0x0002FDE800000064UL],
            LargeCommunities = [new LargeCommunity(4200000001, 1, 2)],
            OriginatorId = 0x0A000003,
            ClusterList = [0x01010101],
            Unknown = [new RawAttribute(AttributeFlags.Optional | AttributeFlags.Transitive, 99, new byte[] { 1, 2, 3 })],
        };
        Nlri[] v4Nlri = [new(Prefix.Parse("10.233.68.0/26"), 1), new(Prefix.Parse("10.233.69.0/24"), 2), new(Prefix.Parse("0.0.0.0/0"), 3)];
        Nlri[] v6Nlri = [new(Prefix.Parse("fd00:10:244::/122"), 1), new(Prefix.Parse("2001:db8::/32"), 2)];
        foreach (var (name, mode) in new[] { ("update-v4-2octet", TwoOctet), ("update-v4-4octet", FourOctet), ("update-v4-addpath", FourOctetAddPath) })
        {
            var codec = Codec(mode);
            var attrs = AttributeEncoder.Encode(v4, codec, ipv4NextHop: true);
            yield return (name, mode, Message(w =>
            {
                UpdateWriter.WriteAnnouncements(w, codec, attrs, v4Nlri, v6: false);
                UpdateWriter.WriteWithdrawals(w, codec, v4Nlri, v6: false);
                UpdateWriter.WriteEndOfRib(w, v6: false);
            }));
        }
        foreach (var (name, mode) in new[] { ("update-v6-mp", FourOctet), ("update-v6-mp-addpath", FourOctetAddPath), ("update-v6-extended", Extended) })
        {
            var codec = Codec(mode);
            var attrs = AttributeEncoder.Encode(v4 with { NextHop = null }, codec, ipv4NextHop: false);
            yield return (name, mode, Message(w =>
            {
                UpdateWriter.WriteAnnouncements(w, codec, attrs, v6Nlri, v6: true, IpAddr.Parse("fd00::2"), IpAddr.Parse("fe80::2"));
                UpdateWriter.WriteWithdrawals(w, codec, v6Nlri, v6: true);
                UpdateWriter.WriteEndOfRib(w, v6: true);
            }));
        }
    }

    private static BgpCodec Codec(byte mode) => new((mode & 1) != 0, (mode & 2) != 0,
        (mode & 4) != 0 ? AddPathMode.Rx | AddPathMode.Tx : AddPathMode.None, (mode & 8) != 0 ? AddPathMode.Rx | AddPathMode.Tx : AddPathMode.None);

    private static byte[] Message(Action<ArrayBufferWriter<byte>> write)
    {
        var w = new ArrayBufferWriter<byte>();
        write(w);
        return w.WrittenSpan.ToArray();
    }

    private static IEnumerable<(string Name, byte[] Bytes)> Netlink()
    {
        var routes = new KernelRouteSpec[]
        {
            new() { Prefix = Prefix.Parse("10.233.89.0/26"), Type = KernelRouteType.Blackhole },
            new() { Prefix = Prefix.Parse("10.233.68.0/26"), Gateway = IpAddr.Parse("172.16.0.120"), OutInterfaceIndex = 5, Onlink = true, Metric = 100 },
            new() { Prefix = Prefix.Parse("fd00:10:244::/122"), Gateway = IpAddr.Parse("fd00::120"), OutInterfaceIndex = 2, Table = 1000 },
            new()
            {
                Prefix = Prefix.Parse("10.233.70.0/26"),
                NextHops = ImmutableArray.Create(new KernelNextHop(IpAddr.Parse("172.16.0.121"), 2), new KernelNextHop(IpAddr.Parse("172.16.0.122"), 3, true, 2)),
            },
        };
        yield return ("route-dump", Datagram(w =>
        {
            uint seq = 1;
            foreach (var r in routes)
                RouteMessage.WriteAdd(w, r, seq++);
            w.BeginMessage(Nl.Done, Nl.FMulti, seq);
            w.Reserve(4);
            w.EndMessage();
        }));
        yield return ("route-delete", Datagram(w => RouteMessage.WriteDelete(w, routes[1], 7)));
        yield return ("nexthop-dump", Datagram(w =>
        {
            NexthopMessage.WriteAdd(w, 0x0C000001, IpAddr.Parse("172.16.0.121"), 2, onlink: false, 1);
            NexthopMessage.WriteAdd(w, 0x0C000002, IpAddr.Parse("172.16.0.120"), 5, onlink: true, 2);
            NexthopMessage.WriteAdd(w, 0x0C000003, IpAddr.Parse("fd00::120"), 2, onlink: false, 3);
            NexthopMessage.WriteAddGroup(w, 0x0C000004, [new NexthopGroupMember(0x0C000001, 1), new NexthopGroupMember(0x0C000002, 3)], 4);
            w.BeginMessage(Nl.Done, Nl.FMulti, 5);
            w.Reserve(4);
            w.EndMessage();
        }));
        yield return ("route-nhid", Datagram(w => RouteMessage.WriteAdd(w, routes[1], 8, nexthopId: 0x0C000002)));
        yield return ("link-dump", Datagram(w =>
        {
            w.BeginMessage(Rtnl.NewLink, Nl.FMulti, 1);
            var m = w.Reserve(Rtnl.IfInfoMsgLength);
            m[2] = 1; // ARPHRD_ETHER
            m[4] = 5; // ifindex
            m[8] = 0x43; // IFF_UP | IFF_BROADCAST | IFF_RUNNING
            w.Attribute(Rtnl.IflaIfName, "tunl0\0"u8);
            w.AttributeU32(Rtnl.IflaMtu, 1480);
            var info = w.BeginNested(Rtnl.IflaLinkInfo);
            w.Attribute(Rtnl.IflaInfoKind, "ipip\0"u8);
            w.EndNested(info);
            w.EndMessage();
        }));
        yield return ("address-dump", Datagram(w =>
        {
            w.BeginMessage(Rtnl.NewAddr, Nl.FMulti, 1);
            var m = w.Reserve(Rtnl.IfAddrMsgLength);
            m[0] = Rtnl.AfInet;
            m[1] = 24;
            m[4] = 2;
            w.AttributeAddress(Rtnl.IfaLocal, IpAddr.Parse("172.16.0.1"));
            w.AttributeAddress(Rtnl.IfaAddress, IpAddr.Parse("172.16.0.2"));
            w.AttributeU32(Rtnl.IfaFlags, 0x80);
            w.EndMessage();
        }));
        yield return ("error-ack", Datagram(w =>
        {
            w.BeginMessage(Nl.Error, Nl.FAckTlvs, 3);
            var e = w.Reserve(4 + Nl.HeaderLength);
            e[0] = 0xEF; // -17, EEXIST
            e[1] = e[2] = e[3] = 0xFF;
            e[4] = Nl.HeaderLength;
            w.Attribute(Nl.ErrAttrMsg, "File exists\0"u8);
            w.EndMessage();
        }));
    }

    private static byte[] Datagram(Action<NetlinkWriter> write)
    {
        using var w = new NetlinkWriter(256);
        write(w);
        return w.Written.ToArray();
    }
}
