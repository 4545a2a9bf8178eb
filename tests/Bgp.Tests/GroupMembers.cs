using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Export;
using Calico.Bgp.Speaker.Wire;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>Update group members without a session: a protocol joined to its group, whose queue a test drains itself.</summary>
internal static class GroupMembers
{
    private static readonly BgpCodec Codec = new(true, false, AddPathMode.None, AddPathMode.None);

    /// <summary>An eBGP neighbour exporting everything; members joined with the same table and registry share a group.</summary>
    public static UpdateGroupMember Join(RoutingTable table, UpdateGroupRegistry registry, string name = "rr_client", string neighbor = "127.0.0.2")
    {
        var options = new BgpProtocolOptions
        {
            Name = name,
            RouterId = 0x0A000001,
            LocalAs = 64512,
            PeerAs = 64513,
            NeighborAddress = IpAddr.Parse(neighbor),
            ExportFilter = RouteFilter.AcceptAll,
        };
        var protocol = new BgpProtocol(options, table, TimeProvider.System, NullLoggerFactory.Instance, null, registry);
        return registry.Join(protocol, UpdateGroupKey.For(table, options, Codec, IpAddr.Parse("127.0.0.1")));
    }
}
