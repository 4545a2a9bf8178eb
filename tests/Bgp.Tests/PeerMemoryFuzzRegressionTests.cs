using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>Memory samples need a process where no other test allocates meanwhile.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PeerMemoryCollection
{
    public const string Name = "peer memory";
}

/// <summary>
/// Bounded memory per peer (docs/reliability.md): a raw client on loopback plays a peer that sends
/// junk, an oversized header, or an endless run of valid maximum-size messages; the session must
/// answer from the header alone and never buffer more than one message.
/// </summary>
[Collection(PeerMemoryCollection.Name)]
public class PeerMemoryFuzzRegressionTests
{
    private const uint PeerRouterId = 0x0A000002;

    [Fact]
    public async Task Oversized_length_is_refused_from_the_header_before_any_body_arrives()
    {
        await using var session = await Session.StartAsync();
        await using var peer = await session.EstablishAsync();
        // Only the 19 header bytes go out: an answer proves nothing of the 4097 was waited for.
        var header = new byte[BgpConstants.HeaderLength];
        FrameReader.WriteHeader(header, MessageType.Update, BgpConstants.MaxMessageLength + 1 - BgpConstants.HeaderLength);
        await peer.SendAsync(w => w.Write(header));
        var notification = await peer.ReadUntilAsync(MessageType.Notification, TimeSpan.FromSeconds(10));
        Assert.Equal((byte)NotificationCode.MessageHeaderError, notification[19]);
        Assert.Equal((byte)HeaderErrorSubcode.BadMessageLength, notification[20]);
        Assert.Equal(BgpConstants.MaxMessageLength + 1, BinaryPrimitives.ReadUInt16BigEndian(notification.AsSpan(21)));
    }

    [Fact]
    public async Task Endless_junk_ends_the_session_after_one_header()
    {
        await using var session = await Session.StartAsync();
        await using var peer = await session.EstablishAsync();
        var junk = new byte[64 * 1024];
        new Random(7).NextBytes(junk);
        await peer.SendAsync(w => w.Write(junk));
        var notification = await peer.ReadUntilAsync(MessageType.Notification, TimeSpan.FromSeconds(10));
        Assert.Equal((byte)NotificationCode.MessageHeaderError, notification[19]);
        Assert.Equal((byte)HeaderErrorSubcode.ConnectionNotSynchronized, notification[20]);
        // The connection is closed after the NOTIFICATION: the rest of the junk is never read.
        await Assert.ThrowsAnyAsync<Exception>(() => peer.ReadAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_flood_of_maximum_size_updates_does_not_grow_memory()
    {
        await using var session = await Session.StartAsync();
        await using var peer = await session.EstablishAsync();
        var update = MaximumSizeWithdrawal();
        Assert.InRange(update.Length, BgpConstants.MaxMessageLength - 8, BgpConstants.MaxMessageLength);
        // Warm up (JIT, pipe segments, table structures), then measure a flood 32 MB long.
        await SendManyAsync(peer, update, 256);
        await session.SyncAsync(peer, 1);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        const int Flood = 8192;
        var peak = before;
        var sending = SendManyAsync(peer, update, Flood);
        while (!sending.IsCompleted)
        {
            // Live memory (after a collection) while the flood is being read: garbage is not growth.
            peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true));
            await Task.Delay(100);
        }
        await sending;
        await session.SyncAsync(peer, 2);
        var after = GC.GetTotalMemory(forceFullCollection: true);
        // Retained growth stays under a few percent of what was sent, and so does the live peak while
        // reading: one message, the pipe's segments, nothing proportional to the flood.
        Assert.True(after - before < 1024 * 1024, $"retained {after - before} bytes after {Flood} messages");
        Assert.True(peak - before < 4 * 1024 * 1024, $"live peak {peak - before} bytes above the start");
        Assert.Equal(Rib.ProtocolState.Up, session.Protocol.State);
    }

    /// <summary>A valid UPDATE withdrawing 818 /32s (nothing to withdraw): 4093 bytes, no table work.</summary>
    private static byte[] MaximumSizeWithdrawal()
    {
        const int Entries = 814;
        var withdrawn = new byte[Entries * 5];
        for (var i = 0; i < Entries; i++)
        {
            withdrawn[i * 5] = 32;
            BinaryPrimitives.WriteUInt32BigEndian(withdrawn.AsSpan(i * 5 + 1), 0x0AC80000u + (uint)i);
        }
        var body = new byte[2 + withdrawn.Length + 2];
        BinaryPrimitives.WriteUInt16BigEndian(body, (ushort)withdrawn.Length);
        withdrawn.CopyTo(body, 2);
        var w = new ArrayBufferWriter<byte>();
        FrameReader.WriteMessage(w, MessageType.Update, body);
        return w.WrittenSpan.ToArray();
    }

    private static async Task SendManyAsync(ScriptedPeer peer, byte[] message, int count)
    {
        const int Batch = 16;
        var batch = new byte[message.Length * Batch];
        for (var i = 0; i < Batch; i++)
            message.CopyTo(batch, i * message.Length);
        for (var sent = 0; sent < count; sent += Batch)
            await peer.SendAsync(w => w.Write(batch));
    }

    /// <summary>A passive iBGP session on loopback, as <see cref="MalformedMessageTests"/> sets one up.</summary>
    private sealed class Session : IAsyncDisposable
    {
        private readonly BgpListener _listener;

        private Session(BgpListener listener, BgpProtocol protocol)
        {
            _listener = listener;
            Protocol = protocol;
        }

        public BgpProtocol Protocol { get; }

        public static async Task<Session> StartAsync()
        {
            var listener = new BgpListener(IpAddr.Parse("127.0.0.1"), 0, NullLoggerFactory.Instance);
            var options = new BgpProtocolOptions
            {
                Name = "peer",
                RouterId = 0x0A000001,
                LocalAs = 64512,
                PeerAs = 64512,
                NeighborAddress = IpAddr.Parse("127.0.0.1"),
                Passive = true,
                ConnectDelayTime = 0,
            };
            var bgp = new BgpProtocol(options, new RoutingTable(), TimeProvider.System, NullLoggerFactory.Instance, listener);
            listener.Start();
            await bgp.StartAsync(CancellationToken.None);
            return new Session(listener, bgp);
        }

        public async Task<ScriptedPeer> EstablishAsync()
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, _listener.Port));
            var peer = new ScriptedPeer(socket);
            await peer.HandshakeAsync(64512, PeerRouterId);
            await Wait.UntilAsync(() => Protocol.State == Rib.ProtocolState.Up, TimeSpan.FromSeconds(10), "established");
            return peer;
        }

        /// <summary>
        /// Announces a marker route and waits for it in the table: messages are handled in order, so
        /// everything sent before it has been read and processed.
        /// </summary>
        public async Task SyncAsync(ScriptedPeer peer, int marker)
        {
            var prefix = new Prefix(IpAddr.FromBits(0xC0000200u + ((uint)marker << 8), false), 24);
            var codec = new BgpCodec(FourOctetAs: true, ExtendedMessages: false, AddPathMode.None, AddPathMode.None);
            var attributes = AttributeEncoder.Encode(new PathAttributes
            {
                Source = RouteSource.Bgp,
                Origin = BgpOrigin.Igp,
                AsPath = AsPath.Empty,
                NextHop = IpAddr.Parse("127.0.0.1"),
                LocalPref = 100,
            }, codec, ipv4NextHop: true);
            await peer.SendAsync(w => UpdateWriter.WriteAnnouncements(w, codec, attributes, [new Nlri(prefix)], v6: false));
            await Wait.UntilAsync(() => Protocol.Table.Find(prefix) is not null, TimeSpan.FromSeconds(60), $"marker {prefix}");
        }

        public async ValueTask DisposeAsync()
        {
            await Protocol.StopAsync(CancellationToken.None);
            await _listener.DisposeAsync();
        }
    }
}
