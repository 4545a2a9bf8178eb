using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>A hand-driven BGP speaker on a raw socket, for tests that need exact control of the wire.</summary>
internal sealed class ScriptedPeer : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;

    public ScriptedPeer(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    public static Socket Listen(string address, int receiveBuffer = 0)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        if (receiveBuffer > 0)
            s.ReceiveBufferSize = receiveBuffer;
        s.Bind(new IPEndPoint(IPAddress.Parse(address), 0));
        s.Listen(8);
        return s;
    }

    public static async Task<ScriptedPeer> AcceptAsync(Socket listener)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        return new ScriptedPeer(await listener.AcceptAsync(cts.Token));
    }

    public static async Task<ScriptedPeer> ConnectAsync(string from, string to, int port)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.Parse(from), 0));
        await s.ConnectAsync(new IPEndPoint(IPAddress.Parse(to), port));
        return new ScriptedPeer(s);
    }

    public static CapabilitySet Caps(AddPathMode addPath = AddPathMode.None, uint asn = 64512) => new()
    {
        Families = [AfiSafi.Ipv4Unicast],
        RouteRefresh = true,
        FourOctetAs = asn,
        AddPath = addPath == AddPathMode.None ? new Dictionary<AfiSafi, AddPathMode>() : new Dictionary<AfiSafi, AddPathMode> { [AfiSafi.Ipv4Unicast] = addPath },
    };

    public Task SendOpenAsync(uint asn, uint routerId, CapabilitySet? caps = null, ushort hold = 90) =>
        SendAsync(w => OpenMessage.Create(asn, hold, routerId, caps ?? Caps(asn: asn)).Write(w));

    public Task SendKeepaliveAsync() => SendAsync(KeepaliveMessage.Write);

    public async Task SendAsync(Action<IBufferWriter<byte>> write)
    {
        var w = new ArrayBufferWriter<byte>();
        write(w);
        await _stream.WriteAsync(w.WrittenMemory);
    }

    /// <summary>Reads one whole message (header included).</summary>
    public async Task<byte[]> ReadAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        var header = new byte[BgpConstants.HeaderLength];
        await _stream.ReadExactlyAsync(header, cts.Token);
        var len = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(16));
        var msg = new byte[len];
        header.CopyTo(msg, 0);
        await _stream.ReadExactlyAsync(msg.AsMemory(BgpConstants.HeaderLength), cts.Token);
        return msg;
    }

    /// <summary>Waits until the other end closes the connection (end of stream or a reset), discarding what arrives.</summary>
    public async Task ReadClosedAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        var buffer = new byte[4096];
        try
        {
            while (await _stream.ReadAsync(buffer, cts.Token) > 0)
            {
            }
        }
        catch (IOException)
        {
            // Reset: closed as well.
        }
    }

    /// <summary>Reads until a message of <paramref name="type"/> arrives (skipping KEEPALIVEs and others).</summary>
    public async Task<byte[]> ReadUntilAsync(MessageType type, TimeSpan? timeout = null)
    {
        while (true)
        {
            var m = await ReadAsync(timeout);
            if ((MessageType)m[18] == type)
                return m;
        }
    }

    /// <summary>Our OPEN, then theirs, then KEEPALIVEs both ways: Established.</summary>
    public async Task HandshakeAsync(uint asn, uint routerId, CapabilitySet? caps = null)
    {
        await ReadUntilAsync(MessageType.Open);
        await SendOpenAsync(asn, routerId, caps);
        await SendKeepaliveAsync();
        await ReadUntilAsync(MessageType.Keepalive);
    }

    public static MessageType TypeOf(byte[] message) => (MessageType)message[18];

    public static bool IsEndOfRib(byte[] m) => TypeOf(m) == MessageType.Update && m.Length == 23;

    /// <summary>Applies an IPv4 UPDATE to <paramref name="paths"/> (prefix and path id).</summary>
    public static void Apply(HashSet<Nlri> paths, byte[] message, bool addPath)
    {
        Assert.True(UpdateMessage.TryParse(message.AsSpan(BgpConstants.HeaderLength), out var u, out _));
        foreach (var n in new NlriReader(u.Withdrawn, false, addPath))
            paths.Remove(n);
        foreach (var n in new NlriReader(u.Nlri, false, addPath))
            paths.Add(n);
    }

    public async ValueTask DisposeAsync() => await _stream.DisposeAsync();
}
