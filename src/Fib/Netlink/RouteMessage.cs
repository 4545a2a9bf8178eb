using System.Buffers.Binary;
using System.Collections.Immutable;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Fib.Netlink;

/// <summary>
/// RTM_NEWROUTE / RTM_DELROUTE / RTM_GETROUTE encoding and route dump parsing.
/// <code>
/// struct rtmsg {                      (include/uapi/linux/rtnetlink.h)
///   u8 rtm_family, rtm_dst_len, rtm_src_len, rtm_tos;
///   u8 rtm_table, rtm_protocol, rtm_scope, rtm_type;
///   u32 rtm_flags;
/// } then rtattrs: RTA_DST, RTA_TABLE, RTA_PRIORITY, RTA_OIF, RTA_GATEWAY | RTA_MULTIPATH
/// </code>
/// </summary>
public static class RouteMessage
{
    /// <summary>RT_SCOPE_NOWHERE: "any scope" in a delete request, as iproute2 sends it.</summary>
    private const byte ScopeNowhere = 255;

    /// <summary>
    /// Writes an RTM_NEWROUTE for <paramref name="route"/>: NLM_F_CREATE|NLM_F_EXCL, or
    /// NLM_F_CREATE|NLM_F_REPLACE when <paramref name="replace"/>; NLM_F_ACK unless <paramref name="ack"/>
    /// is false (the kernel answers a failure all the same, see <see cref="RtNetlinkClient.ApplyAsync"/>).
    /// </summary>
    /// <remarks>
    /// A <paramref name="nexthopId"/> other than 0 names the nexthop object that holds the route's next
    /// hops (RTA_NH_ID) instead of writing them: the object carries the gateways, devices, onlink
    /// flags and weights (see <see cref="NexthopRegistry"/>).
    /// </remarks>
    public static void WriteAdd(NetlinkWriter w, KernelRouteSpec route, uint sequence, bool replace = false, bool ack = true, uint nexthopId = 0)
    {
        w.BeginMessage(Rtnl.NewRoute, (ushort)(Nl.FRequest | (ack ? Nl.FAck : 0) | Nl.FCreate | (replace ? Nl.FReplace : Nl.FExcl)), sequence);
        var scope = route.Type == KernelRouteType.Unicast && route.Gateway is null && !route.IsMultipath ? Rtnl.ScopeLink : route.Scope;
        var flags = route.Onlink && !route.IsMultipath && nexthopId == 0 ? Rtnl.NhFOnlink : 0u;
        WriteRtMsg(w, route, scope, (byte)route.Type, flags);
        if (route.Metric is { } metric)
            w.AttributeU32(Rtnl.RtaPriority, metric);
        if (nexthopId != 0)
        {
            w.AttributeU32(Rtnl.RtaNhId, nexthopId);
        }
        else if (route.Type == KernelRouteType.Unicast)
        {
            if (route.IsMultipath)
            {
                var mp = w.BeginNested(Rtnl.RtaMultipath);
                foreach (var hop in route.NextHops)
                {
                    var nh = w.BeginNexthop(hop.Onlink ? Rtnl.NhFOnlink : (byte)0, (byte)(Math.Clamp(hop.Weight, 1, 256) - 1), hop.InterfaceIndex);
                    if (hop.Gateway is { } g)
                        w.AttributeAddress(Rtnl.RtaGateway, g);
                    w.EndNested(nh);
                }
                w.EndNested(mp);
            }
            else
            {
                if (route.OutInterfaceIndex != 0)
                    w.AttributeU32(Rtnl.RtaOif, (uint)route.OutInterfaceIndex);
                if (route.Gateway is { } gw)
                    w.AttributeAddress(Rtnl.RtaGateway, gw);
            }
        }
        w.EndMessage();
    }

    /// <summary>
    /// Writes an RTM_DELROUTE for the route the kernel keys by (table, prefix, priority), limited to
    /// <paramref name="route"/>'s protocol so another owner's route of the same key is never removed.
    /// NLM_F_ACK unless <paramref name="ack"/> is false.
    /// </summary>
    public static void WriteDelete(NetlinkWriter w, KernelRouteSpec route, uint sequence, bool ack = true)
    {
        w.BeginMessage(Rtnl.DelRoute, (ushort)(Nl.FRequest | (ack ? Nl.FAck : 0)), sequence);
        WriteRtMsg(w, route, ScopeNowhere, 0, 0);
        w.AttributeU32(Rtnl.RtaPriority, route.EffectiveMetric);
        w.EndMessage();
    }

    /// <summary>
    /// Writes an RTM_GETROUTE lookup of <paramref name="destination"/> answered with the FIB route that
    /// matched (RTM_F_FIB_MATCH): a gateway's connected route gives the device it is on.
    /// </summary>
    public static void WriteLookup(NetlinkWriter w, IpAddr destination, uint sequence)
    {
        w.BeginMessage(Rtnl.GetRoute, Nl.FRequest, sequence);
        var m = w.Reserve(Rtnl.RtMsgLength);
        m[0] = destination.IsV6 ? Rtnl.AfInet6 : Rtnl.AfInet;
        m[1] = (byte)(destination.IsV6 ? 128 : 32);
        BinaryPrimitives.WriteUInt32LittleEndian(m[8..], Rtnl.RtmFFibMatch);
        w.AttributeAddress(Rtnl.RtaDst, destination);
        w.EndMessage();
    }

    /// <summary>Writes an RTM_GETROUTE dump request for one family.</summary>
    public static void WriteDumpRequest(NetlinkWriter w, bool ipv6, uint sequence)
    {
        w.BeginMessage(Rtnl.GetRoute, Nl.FRequest | Nl.FDump, sequence);
        var m = w.Reserve(Rtnl.RtMsgLength);
        m[0] = ipv6 ? Rtnl.AfInet6 : Rtnl.AfInet;
        w.EndMessage();
    }

    private static void WriteRtMsg(NetlinkWriter w, KernelRouteSpec route, byte scope, byte type, uint flags)
    {
        var m = w.Reserve(Rtnl.RtMsgLength);
        m[0] = route.Prefix.IsV6 ? Rtnl.AfInet6 : Rtnl.AfInet;
        m[1] = route.Prefix.Length;
        m[4] = route.Table < 256 ? (byte)route.Table : Rtnl.TableUnspec;
        m[5] = route.Protocol;
        m[6] = scope;
        m[7] = type;
        BinaryPrimitives.WriteUInt32LittleEndian(m[8..], flags);
        w.AttributeAddress(Rtnl.RtaDst, route.Prefix.Address);
        w.AttributeU32(Rtnl.RtaTable, route.Table);
    }

    /// <summary>Parses an RTM_NEWROUTE (dump entry or notification) payload; false for families or shapes we do not model.</summary>
    public static bool TryParse(ReadOnlySpan<byte> payload, out KernelRouteSpec route)
    {
        route = null!;
        if (!TryParse(payload, out var fields, out var multipath))
            return false;
        var hops = multipath.IsEmpty ? default : ParseMultipath(multipath);
        route = fields.ToSpec(hops.IsDefault ? default : hops.AsSpan());
        return true;
    }

    /// <summary>
    /// Parses an RTM_NEWROUTE payload in place, allocating nothing: the fields, and the RTA_MULTIPATH
    /// attribute unread (<paramref name="multipath"/>, empty when there is none; <see cref="ReadHops"/>).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> payload, out RouteFields route, out ReadOnlySpan<byte> multipath)
    {
        route = default;
        multipath = default;
        if (payload.Length < Rtnl.RtMsgLength)
            return false;
        var family = payload[0];
        if (family != Rtnl.AfInet && family != Rtnl.AfInet6)
            return false;
        var v6 = family == Rtnl.AfInet6;
        var dstLen = payload[1];
        if (dstLen > (v6 ? 128 : 32))
            return false;
        route.Table = payload[4];
        route.Protocol = payload[5];
        route.Scope = payload[6];
        route.Type = (KernelRouteType)payload[7];
        route.Flags = BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]);
        route.Onlink = (route.Flags & Rtnl.NhFOnlink) != 0;
        var dst = v6 ? IpAddr.V6Any : IpAddr.V4Any;
        var attrs = new NetlinkAttributeReader(payload[Rtnl.RtMsgLength..]);
        while (attrs.MoveNext())
        {
            var v = attrs.Value;
            switch (attrs.Type)
            {
                case Rtnl.RtaDst when v.Length is 4 or 16:
                    dst = IpAddr.FromBytes(v);
                    break;
                case Rtnl.RtaGateway when v.Length is 4 or 16:
                    route.Gateway = IpAddr.FromBytes(v);
                    break;
                case Rtnl.RtaPrefSrc when v.Length is 4 or 16:
                    route.PreferredSource = IpAddr.FromBytes(v);
                    break;
                case Rtnl.RtaOif:
                    route.OutInterfaceIndex = (int)NetlinkAttributeReader.U32(v);
                    break;
                case Rtnl.RtaPriority:
                    route.Metric = NetlinkAttributeReader.U32(v);
                    break;
                case Rtnl.RtaTable:
                    route.Table = NetlinkAttributeReader.U32(v);
                    break;
                case Rtnl.RtaMultipath:
                    multipath = v;
                    break;
                case Rtnl.RtaNhId:
                    route.NexthopId = NetlinkAttributeReader.U32(v);
                    break;
            }
        }
        if (dst.IsV6 != v6)
            return false;
        route.Prefix = new Prefix(dst, dstLen);
        return true;
    }

    /// <summary>Reads the next hops of an RTA_MULTIPATH value into <paramref name="into"/> (cleared first).</summary>
    public static void ReadHops(ReadOnlySpan<byte> multipath, List<KernelNextHop> into)
    {
        into.Clear();
        var walker = new MultipathReader(multipath);
        while (walker.MoveNext())
            into.Add(walker.Current);
    }

    /// <summary>RTA_MULTIPATH as an immutable list (for a route built whole).</summary>
    private static ImmutableArray<KernelNextHop> ParseMultipath(ReadOnlySpan<byte> v)
    {
        var list = ImmutableArray.CreateBuilder<KernelNextHop>();
        var walker = new MultipathReader(v);
        while (walker.MoveNext())
            list.Add(walker.Current);
        return list.ToImmutable();
    }

    /// <summary>RTA_MULTIPATH: a run of struct rtnexthop, each followed by its own attributes (RTNH_NEXT).</summary>
    private ref struct MultipathReader(ReadOnlySpan<byte> value)
    {
        private ReadOnlySpan<byte> _rest = value;

        public KernelNextHop Current { get; private set; }

        public bool MoveNext()
        {
            var v = _rest;
            if (v.Length < Rtnl.RtNexthopLength)
                return false;
            var len = BinaryPrimitives.ReadUInt16LittleEndian(v);
            if (len < Rtnl.RtNexthopLength || len > v.Length)
                return false;
            var flags = v[2];
            var hops = v[3];
            var ifindex = BinaryPrimitives.ReadInt32LittleEndian(v[4..]);
            IpAddr? gw = null;
            var attrs = new NetlinkAttributeReader(v[Rtnl.RtNexthopLength..len]);
            while (attrs.MoveNext())
            {
                if (attrs.Type == Rtnl.RtaGateway && attrs.Value.Length is 4 or 16)
                    gw = IpAddr.FromBytes(attrs.Value);
            }
            Current = new KernelNextHop(gw, ifindex, (flags & Rtnl.NhFOnlink) != 0, hops + 1);
            _rest = v[Math.Min(Nl.Align(len), v.Length)..];
            return true;
        }
    }
}
