using Calico.Bgp.Fib.Netlink;

namespace Calico.Bgp.Fuzz;

/// <summary>
/// One datagram from the kernel, walked as <c>RtNetlinkClient</c> walks dumps, acks and
/// notifications: route, nexthop, link and address messages to their parsers, NLMSG_ERROR to the
/// ack parser. A parsed route is written back as the kernel protocol would (replace, delete), since
/// a route read from a dump is what a prune or a graceful-restart cleanup deletes.
/// Returning false from a parser is the documented outcome; any exception is a finding.
/// </summary>
internal static class NetlinkTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        using var writer = new NetlinkWriter(256);
        foreach (var m in new NetlinkMessageReader(input))
        {
            switch (m.Type)
            {
                case Nl.Error:
                    _ = NetlinkResult.Parse(m).ToString();
                    break;
                case Rtnl.NewRoute or Rtnl.DelRoute:
                    if (RouteMessage.TryParse(m.Payload, out var route))
                    {
                        _ = route.ToString();
                        _ = route.Matches(route);
                        writer.Clear();
                        RouteMessage.WriteAdd(writer, route, m.Sequence, replace: true);
                        RouteMessage.WriteDelete(writer, route, m.Sequence);
                    }
                    break;
                case Rtnl.NewNexthop or Rtnl.DelNexthop:
                    // A nexthop object read back is written again as it would be re-created (or a group of its members).
                    if (NexthopMessage.TryParse(m.Payload, out var nexthop))
                    {
                        writer.Clear();
                        if (nexthop.IsGroup)
                            NexthopMessage.WriteAddGroup(writer, nexthop.Id, nexthop.Group.AsSpan()[..Math.Min(nexthop.Group.Length, 256)], m.Sequence);
                        else if (nexthop.Gateway is { } gateway)
                            NexthopMessage.WriteAdd(writer, nexthop.Id, gateway, nexthop.InterfaceIndex, nexthop.Onlink, m.Sequence);
                        NexthopMessage.WriteDelete(writer, nexthop.Id, m.Sequence);
                    }
                    break;
                case Rtnl.NewLink or Rtnl.DelLink:
                    if (LinkMessage.TryParse(m.Payload, out var link))
                        _ = link.ToString() + link.IsUp;
                    break;
                case Rtnl.NewAddr or Rtnl.DelAddr:
                    if (AddressMessage.TryParse(m.Payload, out var address))
                        _ = address.Subnet.ToString() + address;
                    break;
            }
        }
    }
}
