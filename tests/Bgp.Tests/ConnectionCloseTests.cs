using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Calico.Bgp.Lab;
using Calico.Bgp.Speaker.Transport;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>
/// How a <see cref="BgpConnection"/> ends when the peer's last bytes were never read: an idle session
/// only waits for bytes (zero-byte reads), and Linux resets a socket closed with unread data instead
/// of only sending FIN. Loopback 127.0.10.x.
/// </summary>
public class ConnectionCloseTests
{
    [Fact]
    public async Task A_connection_closed_with_the_peers_bytes_unread_is_not_reset()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Parse("127.0.10.1"), 0));
        listener.Listen();
        using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        peer.Bind(new IPEndPoint(IPAddress.Parse("127.0.10.2"), 0));
        await peer.ConnectAsync(listener.LocalEndPoint!);
        var accepted = await listener.AcceptAsync();
        var conn = new BgpConnection(accepted, incoming: true);

        // The peer's KEEPALIVE reaches our socket; nothing reads it.
        var keepalive = new ArrayBufferWriter<byte>();
        KeepaliveMessage.Write(keepalive);
        await peer.SendAsync(keepalive.WrittenMemory, SocketFlags.None);
        await Wait.UntilAsync(() => accepted.Available == keepalive.WrittenCount, TimeSpan.FromSeconds(10), "the KEEPALIVE to be queued on our socket");

        await conn.DisposeAsync();

        // The peer reads the end of the stream (FIN).
        var buffer = new byte[64];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.Equal(0, await peer.ReceiveAsync(buffer, SocketFlags.None, timeout.Token));
        // Had a reset followed the FIN, the peer's socket would hold its error now and this write
        // would fail at once (EPIPE); after a plain FIN the kernel still takes it.
        var error = SocketError.Success;
        try
        {
            await peer.SendAsync(keepalive.WrittenMemory, SocketFlags.None);
        }
        catch (SocketException e)
        {
            error = e.SocketErrorCode;
        }
        Assert.Equal(SocketError.Success, error);
    }
}
