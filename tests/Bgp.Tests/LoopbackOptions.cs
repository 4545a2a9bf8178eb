using System.Net;
using System.Net.Sockets;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>
/// The options of our protocol in the loopback session tests: AS 64512 to a scripted peer of AS
/// 64513 listening on <c>listener</c>, connecting at once, waiting 30 s after an error (so a test
/// sees one connection only), hold time 90 s. Tests change what they test with <c>with</c>.
/// </summary>
internal static class LoopbackOptions
{
    public static BgpProtocolOptions For(string name, string address, Socket listener) => new()
    {
        Name = name,
        RouterId = 0x0A000001,
        LocalAs = 64512,
        PeerAs = 64513,
        NeighborAddress = IpAddr.Parse(address),
        NeighborPort = ((IPEndPoint)listener.LocalEndPoint!).Port,
        SourceAddress = IpAddr.Parse("127.0.0.1"),
        ConnectDelayTime = 0,
        ErrorWaitMin = 30,
        ErrorWaitMax = 30,
        HoldTime = 90,
    };
}
