using System.Buffers;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Export;
using Calico.Bgp.Speaker.Session;
using Calico.Bgp.Speaker.Wire;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>
/// An update group keeps what the export rules made of an attribute set from pass to pass: the answer
/// must follow what the rules read besides the set (the source's session and options), against
/// scripted peers on loopback addresses 127.0.0.x.
/// </summary>
public class UpdateGroupMemoTests
{
    private const uint ClusterId = 0x01010101;
    private static readonly BgpCodec Codec = new(true, false, AddPathMode.None, AddPathMode.None);
    private static readonly Prefix Block = Prefix.Parse("10.1.0.0/24");

    [Fact]
    public async Task A_reflected_route_names_the_router_id_of_the_session_that_sent_it_now()
    {
        var table = new RoutingTable();
        var registry = new UpdateGroupRegistry();
        var (sourceListener, source) = await StartClientAsync(table, registry, "127.0.0.2");
        var (memberListener, member) = await StartClientAsync(table, registry, "127.0.0.3");
        var sourceRemote = await AcceptAsync(sourceListener, 0x0A0000AA);
        await using var memberRemote = await AcceptAsync(memberListener, 0x0A0000BB);
        try
        {
            await sourceRemote.SendAsync(AnnounceBlock);
            var first = await ReadAnnouncementAsync(memberRemote);
            Assert.Equal(0x0A0000AAu, first.OriginatorId);
            Assert.Equal(new[] { ClusterId }, first.ClusterList.ToArray());

            // The same attribute bytes again from a new session of the source with another router id:
            // the table interns them to the same set, and the group's answer for it must not be the old one.
            await sourceRemote.DisposeAsync();
            await using var again = await AcceptAsync(sourceListener, 0x0A0000CC);
            await again.SendAsync(AnnounceBlock);
            var second = await ReadAnnouncementAsync(memberRemote);
            Assert.Equal(0x0A0000CCu, second.OriginatorId);
            Assert.Equal(new[] { ClusterId }, second.ClusterList.ToArray());
        }
        finally
        {
            await source.StopAsync(CancellationToken.None);
            await member.StopAsync(CancellationToken.None);
            sourceListener.Dispose();
            memberListener.Dispose();
        }
    }

    [Fact]
    public async Task The_group_keeps_a_bounded_number_of_answers()
    {
        var table = new RoutingTable();
        var stat = new TestStatic(table);
        var registry = new UpdateGroupRegistry();
        var (listener, peer) = await StartClientAsync(table, registry, "127.0.0.4");
        await using var remote = await AcceptAsync(listener, 0x0A0000DD);
        try
        {
            // One route: its answers outlive the pass that made them.
            await Wait.UntilAsync(() => peer.UpdateGroupMember is not null, TimeSpan.FromSeconds(20), "the peer in its group");
            var group = peer.UpdateGroupMember!.Group;
            AddRoute(table, stat, 0);
            await WaitExportedAsync(peer, 1);
            Assert.Equal((1, 1), group.MemoCounts);
            Assert.Equal(1, group.EncodedCount);

            // Every route its own attribute set (its own MED), in passes of their own: the answers
            // would grow with the routes if nothing let them go.
            for (var i = 1; i < 3000; i++)
            {
                AddRoute(table, stat, i);
                if (i % 100 == 0)
                {
                    await WaitExportedAsync(peer, i + 1);
                    var (prepared, wire) = group.MemoCounts;
                    Assert.InRange(prepared, 0, 1023);
                    Assert.InRange(wire, 0, 1023);
                }
            }
            await WaitExportedAsync(peer, 3000);
            Assert.InRange(group.MemoCounts.Prepared, 0, 1023);
            Assert.InRange(group.EncodedCount, 1, 1024);
        }
        finally
        {
            await peer.StopAsync(CancellationToken.None);
            listener.Dispose();
        }
    }

    private static void AddRoute(RoutingTable table, Protocol owner, int i)
    {
        var attributes = table.Attributes.Intern(new PathAttributes
        {
            Source = RouteSource.Static,
            Dest = RouteDest.Router,
            Gateway = IpAddr.Parse("127.0.0.9"),
            Med = (uint)i,
        });
        table.Update(Route.Create(Prefix.Parse($"10.{i >> 8}.{i & 255}.0/24"), attributes, owner));
    }

    private static async Task WaitExportedAsync(BgpProtocol peer, long count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (peer.Stats.Exported < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"exported {peer.Stats.Exported} of {count}");
            await Task.Delay(10);
        }
    }

    private static void AnnounceBlock(IBufferWriter<byte> w)
    {
        var attributes = new PathAttributes { Origin = BgpOrigin.Igp, AsPath = AsPath.Empty, NextHop = IpAddr.Parse("127.0.0.2"), LocalPref = 100 };
        UpdateWriter.WriteAnnouncements(w, Codec, AttributeEncoder.Encode(attributes, Codec, true), [new Nlri(Block)], false);
    }

    /// <summary>The attributes of the next UPDATE that announces <see cref="Block"/>.</summary>
    private static async Task<PathAttributes> ReadAnnouncementAsync(ScriptedPeer remote)
    {
        while (true)
        {
            var m = await remote.ReadUntilAsync(MessageType.Update);
            Assert.True(UpdateMessage.TryParse(m.AsSpan(19).ToArray(), out var u, out _));
            var nlri = new HashSet<Nlri>();
            foreach (var n in new NlriReader(u.Nlri, false, false))
                nlri.Add(n);
            if (!nlri.Contains(new Nlri(Block)))
                continue;
            var d = AttributeDecoder.Decode(u.Attributes, Codec, new DecodeContext(true, IpAddr.Parse("127.0.0.1")), true);
            Assert.Equal(ErrorAction.None, d.Action);
            return d.Attributes;
        }
    }

    /// <summary>An iBGP route-reflector client of ours that connects to a scripted peer listening on <paramref name="address"/>.</summary>
    private static async Task<(System.Net.Sockets.Socket, BgpProtocol)> StartClientAsync(RoutingTable table, UpdateGroupRegistry registry, string address)
    {
        var listener = ScriptedPeer.Listen(address);
        // iBGP to a route-reflector client; a second connection a second after the first one's end.
        var options = LoopbackOptions.For("client" + address[^1], address, listener) with
        {
            PeerAs = 64512,
            RrClient = true,
            RrClusterId = ClusterId,
            ExportFilter = RouteFilter.AcceptAll,
            ErrorWaitMin = 1,
            ErrorWaitMax = 1,
        };
        var bgp = new BgpProtocol(options, table, TimeProvider.System, NullLoggerFactory.Instance, null, registry);
        await bgp.StartAsync(CancellationToken.None);
        return (listener, bgp);
    }

    private static async Task<ScriptedPeer> AcceptAsync(System.Net.Sockets.Socket listener, uint routerId)
    {
        var remote = await ScriptedPeer.AcceptAsync(listener);
        await remote.HandshakeAsync(64512, routerId, ScriptedPeer.Caps(asn: 64512));
        return remote;
    }
}
