using System.Net;
using System.Net.Sockets;
using Calico.Bgp.Lab;
using Calico.Bgp.Speaker.Transport;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>
/// A <see cref="BgpConnection"/>'s reads and writes (<see cref="SocketStream"/>): made directly while
/// the socket can, waited for when it cannot, and failed cheaply and clearly when the peer is gone
/// (a reflector whose clients all leave at once fails a send or a read per client). Loopback 127.0.12.x.
/// </summary>
public class ConnectionIoTests
{
    /// <summary>Our connection (accepted) and the peer's socket, on loopback.</summary>
    private sealed class Pair : IAsyncDisposable
    {
        private readonly Socket _listener;

        private Pair(Socket listener, Socket peer, Socket accepted)
        {
            _listener = listener;
            Peer = peer;
            Accepted = accepted;
            Connection = new BgpConnection(accepted, incoming: true);
        }

        public Socket Peer { get; }
        public Socket Accepted { get; }
        public BgpConnection Connection { get; }

        /// <param name="smallBuffers">
        /// Small socket buffers (a fixed receive buffer ends the kernel's autotuning, which would take
        /// megabytes), so a write of a few MB cannot be taken at once and waits for the peer.
        /// </param>
        public static async Task<Pair> OpenAsync(string peerAddress, bool smallBuffers = false)
        {
            var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Parse("127.0.12.1"), 0));
            listener.Listen();
            var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            peer.Bind(new IPEndPoint(IPAddress.Parse(peerAddress), 0));
            await peer.ConnectAsync(listener.LocalEndPoint!);
            var pair = new Pair(listener, peer, await listener.AcceptAsync());
            if (smallBuffers)
            {
                pair.Accepted.SendBufferSize = 4096;
                peer.ReceiveBufferSize = 64 * 1024;
            }
            return pair;
        }

        /// <summary>The peer goes away with a reset (SO_LINGER 0); returns once our socket has taken it in.</summary>
        public async Task ResetByPeerAsync()
        {
            Peer.LingerState = new LingerOption(true, 0);
            Peer.Close();
            await Wait.UntilAsync(() => Accepted.Poll(0, SelectMode.SelectRead), TimeSpan.FromSeconds(10), "the reset to reach our socket");
        }

        public async ValueTask DisposeAsync()
        {
            await Connection.DisposeAsync();
            Peer.Dispose();
            _listener.Dispose();
        }
    }

    [Fact]
    public async Task A_send_to_a_peer_that_reset_fails_with_the_socket_error_and_little_garbage()
    {
        await using var pair = await Pair.OpenAsync("127.0.12.2");
        var conn = pair.Connection;
        await pair.ResetByPeerAsync();

        var update = new byte[64];
        // Warm: the first call's allocations (the write lock's waiter, the state machines' first
        // use) are not the failure's. The reset is reported once (ECONNRESET), then the socket is
        // shut for sending (EPIPE): every send after it fails the same way.
        await Assert.ThrowsAsync<IOException>(() => conn.SendAsync([update], CancellationToken.None).AsTask());
        var before = GC.GetAllocatedBytesForCurrentThread();
        var failure = await Assert.ThrowsAsync<IOException>(() => conn.SendAsync([update], CancellationToken.None).AsTask());
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        var cause = Assert.IsType<SocketException>(failure.InnerException);
        Assert.Contains(cause.SocketErrorCode, new[] { SocketError.Shutdown, SocketError.ConnectionReset, SocketError.ConnectionAborted });
        Assert.Contains(cause.Message, failure.Message);
        // The socket stack's own exception for a send that fails at once carries the current stack
        // trace as text, built per failure: 80-280 KB here (JIT, through NetworkStream), ~40 KB in the
        // AOT image. Ours is the exception, its frames and the tasks that carry it: ~3 KB here.
        Assert.True(allocated < 8 * 1024, $"a failed send allocated {allocated} bytes");
    }

    [Fact]
    public async Task A_write_larger_than_the_socket_takes_at_once_arrives_whole_and_in_order()
    {
        // The direct sends take part of the write and the rest waits.
        await using var pair = await Pair.OpenAsync("127.0.12.3", smallBuffers: true);
        var chunks = new List<ReadOnlyMemory<byte>>();
        var expected = new byte[3 * 1024 * 1024 + 17];
        new Random(12).NextBytes(expected);
        for (var at = 0; at < expected.Length; at += 40_000)
            chunks.Add(expected.AsMemory(at, Math.Min(40_000, expected.Length - at)));
        // Several chunks under a slice, gathered into one, and some over it, sent as they are.
        chunks.Insert(1, new byte[] { 1, 2, 3 });
        var sent = new List<byte>();
        foreach (var c in chunks)
            sent.AddRange(c.ToArray());

        var send = pair.Connection.SendAsync(chunks, CancellationToken.None).AsTask();
        // Nothing read yet: the write waits for the peer.
        await Task.Delay(50);
        Assert.False(send.IsCompleted);
        var received = new byte[sent.Count];
        var got = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (got < received.Length)
        {
            var n = await pair.Peer.ReceiveAsync(received.AsMemory(got), SocketFlags.None, timeout.Token);
            Assert.True(n > 0, "the connection ended early");
            got += n;
        }
        await send.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(sent.ToArray(), received);
    }

    [Fact]
    public async Task A_write_waiting_for_a_peer_that_does_not_read_is_cancelled_by_its_token()
    {
        await using var pair = await Pair.OpenAsync("127.0.12.4", smallBuffers: true);
        using var cancel = new CancellationTokenSource();
        var send = pair.Connection.SendAsync([new byte[4 * 1024 * 1024]], cancel.Token).AsTask();
        await Task.Delay(50);
        Assert.False(send.IsCompleted);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send.WaitAsync(TimeSpan.FromSeconds(10)));
    }
    [Fact]
    public async Task A_read_from_a_peer_that_reset_fails_with_the_socket_error_and_little_garbage()
    {
        await using var pair = await Pair.OpenAsync("127.0.12.5");
        var conn = pair.Connection;
        // A first read, so what the reader makes once is made before the measure.
        await pair.Peer.SendAsync(new byte[] { 0xFF }, SocketFlags.None);
        var first = await conn.Reader.ReadAsync();
        Assert.Equal(1, first.Buffer.Length);
        conn.Reader.AdvanceTo(first.Buffer.End);
        // The peer resets with bytes of ours unread, so our socket holds the error for the next read.
        await conn.SendAsync([new byte[64]], CancellationToken.None);
        await Wait.UntilAsync(() => pair.Peer.Available == 64, TimeSpan.FromSeconds(10), "our bytes to reach the peer");
        await pair.ResetByPeerAsync();

        var before = GC.GetAllocatedBytesForCurrentThread();
        var failure = await Assert.ThrowsAsync<IOException>(async () => await conn.Reader.ReadAsync());
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        var cause = Assert.IsType<SocketException>(failure.InnerException);
        Assert.Equal(SocketError.ConnectionReset, cause.SocketErrorCode);
        Assert.Contains(cause.Message, failure.Message);
        Assert.True(allocated < 8 * 1024, $"a failed read allocated {allocated} bytes");
    }
}
