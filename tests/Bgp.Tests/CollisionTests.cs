using System.Net;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Session;
using Calico.Bgp.Speaker.Wire;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>
/// RFC 4271 §6.8 with both connections open at once on loopback: we connect out to a scripted
/// neighbour while it connects in to our listener; its OPEN on the second connection decides.
/// </summary>
public class CollisionTests
{
    private const uint OurId = 0x0A000005;

    [Theory]
    [InlineData(0x0A000009u, true)]   // neighbour dominant: its (incoming) connection stays
    [InlineData(0x0A000001u, false)]  // we are dominant: our (outgoing) connection stays
    public async Task Collision_closes_the_connection_of_the_lower_identifier_with_cease_7(uint peerId, bool incomingSurvives)
    {
        using var peerListener = ScriptedPeer.Listen("127.0.0.2");
        var peerPort = ((IPEndPoint)peerListener.LocalEndPoint!).Port;
        await using var listener = new BgpListener(IpAddr.Parse("127.0.0.1"), 0, NullLoggerFactory.Instance);
        listener.Start();
        var table = new RoutingTable();
        var bgp = new BgpProtocol(new BgpProtocolOptions
        {
            Name = "collide",
            RouterId = OurId,
            LocalAs = 64512,
            PeerAs = 64512,
            NeighborAddress = IpAddr.Parse("127.0.0.2"),
            NeighborPort = peerPort,
            SourceAddress = IpAddr.Parse("127.0.0.1"),
            ConnectDelayTime = 0,
            HoldTime = 90,
        }, table, TimeProvider.System, NullLoggerFactory.Instance, listener);
        await bgp.StartAsync(CancellationToken.None);
        try
        {
            await using var outgoing = await ScriptedPeer.AcceptAsync(peerListener);
            await using var incoming = await ScriptedPeer.ConnectAsync("127.0.0.2", "127.0.0.1", listener.Port);
            Assert.Equal(MessageType.Open, ScriptedPeer.TypeOf(await outgoing.ReadAsync()));
            Assert.Equal(MessageType.Open, ScriptedPeer.TypeOf(await incoming.ReadAsync()));

            // Our outgoing connection reaches OpenConfirm first; the OPEN on the incoming one collides.
            await outgoing.SendOpenAsync(64512, peerId);
            Assert.Equal(MessageType.Keepalive, ScriptedPeer.TypeOf(await outgoing.ReadAsync()));
            await incoming.SendOpenAsync(64512, peerId);

            var (winner, loser) = incomingSurvives ? (incoming, outgoing) : (outgoing, incoming);
            var notification = await loser.ReadUntilAsync(MessageType.Notification);
            Assert.Equal((byte)NotificationCode.Cease, notification[19]);
            Assert.Equal((byte)CeaseSubcode.ConnectionCollisionResolution, notification[20]);
            if (incomingSurvives)
                Assert.Equal(MessageType.Keepalive, ScriptedPeer.TypeOf(await winner.ReadAsync()));
            await winner.SendKeepaliveAsync();
            await Wait.UntilAsync(() => bgp.BgpState == BgpState.Established, TimeSpan.FromSeconds(10), "Established on the surviving connection");
            Assert.Equal(1, bgp.CollisionsResolved);
            Assert.Equal(peerId, bgp.Snapshot().NeighborId);
            // The session runs on the winner: an UPDATE (End-of-RIB) arrives there.
            Assert.True(ScriptedPeer.IsEndOfRib(await winner.ReadUntilAsync(MessageType.Update)));
        }
        finally
        {
            await bgp.StopAsync(CancellationToken.None);
        }
    }
}
