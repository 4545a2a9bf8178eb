using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Calico.Bgp.Lab;

/// <summary>
/// A BGP speaker driven byte by byte from a test, on a socket inside a lab host's namespace: for
/// what no real peer does on purpose (stop reading, send malformed UPDATEs). Messages are built here
/// from RFC 4271 §4 by hand, independent of the daemon's own codec, so a codec bug cannot hide
/// itself on both ends.
/// </summary>
public sealed class RawBgpPeer : IAsyncDisposable
{
    public const byte Open = 1;
    public const byte Update = 2;
    public const byte Notification = 3;
    public const byte Keepalive = 4;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    private RawBgpPeer(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    /// <summary>
    /// Connects from <paramref name="from"/> in <paramref name="host"/>'s namespace to port 179 of
    /// <paramref name="to"/>. A <paramref name="receiveBuffer"/> (bytes) is set before connecting, so
    /// the advertised window stays that small.
    /// </summary>
    public static async Task<RawBgpPeer> ConnectAsync(LabHost host, string from, string to, int receiveBuffer = 0)
    {
        var s = NetnsSockets.Create(host.Netns, AddressFamily.InterNetwork);
        try
        {
            if (receiveBuffer > 0)
                s.ReceiveBufferSize = receiveBuffer;
            s.Bind(new IPEndPoint(IPAddress.Parse(from), 0));
            await s.ConnectAsync(new IPEndPoint(IPAddress.Parse(to), 179)).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            return new RawBgpPeer(s);
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    /// <summary>Whether the daemon closed the connection (a read returned end of stream or a reset).</summary>
    public bool Closed { get; private set; }

    /// <summary>OPEN with IPv4 unicast (RFC 4760) and 4-octet AS (RFC 6793) capabilities.</summary>
    public static byte[] OpenMessage(uint asn, ushort hold, string routerId)
    {
        byte[] caps =
        [
            1, 4, 0, 1, 0, 1, // Multiprotocol: AFI 1, SAFI 1
            65, 4, (byte)(asn >> 24), (byte)(asn >> 16), (byte)(asn >> 8), (byte)asn,
        ];
        var body = new List<byte> { 4 };
        var as2 = asn > 0xFFFF ? (ushort)23456 : (ushort)asn;
        body.Add((byte)(as2 >> 8));
        body.Add((byte)as2);
        body.Add((byte)(hold >> 8));
        body.Add((byte)hold);
        body.AddRange(IPAddress.Parse(routerId).GetAddressBytes());
        body.Add((byte)(caps.Length + 2));
        body.Add(2);
        body.Add((byte)caps.Length);
        body.AddRange(caps);
        return Message(Open, [.. body]);
    }

    public static byte[] KeepaliveMessage() => Message(Keepalive, []);

    /// <summary>An UPDATE from its three parts (RFC 4271 §4.3), lengths filled in.</summary>
    public static byte[] UpdateMessage(byte[] withdrawn, byte[] attributes, byte[] nlri)
    {
        var body = new byte[2 + withdrawn.Length + 2 + attributes.Length + nlri.Length];
        BinaryPrimitives.WriteUInt16BigEndian(body, (ushort)withdrawn.Length);
        withdrawn.CopyTo(body, 2);
        BinaryPrimitives.WriteUInt16BigEndian(body.AsSpan(2 + withdrawn.Length), (ushort)attributes.Length);
        attributes.CopyTo(body, 4 + withdrawn.Length);
        nlri.CopyTo(body, 4 + withdrawn.Length + attributes.Length);
        return Message(Update, body);
    }

    /// <summary>One prefix in NLRI encoding: length in bits, then the significant octets.</summary>
    public static byte[] Prefix(string cidr)
    {
        var parts = cidr.Split('/');
        var bits = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        var address = IPAddress.Parse(parts[0]).GetAddressBytes();
        return [(byte)bits, .. address.AsSpan(0, (bits + 7) / 8)];
    }

    /// <summary>One path attribute (RFC 4271 §4.3): flags, type, one-octet length, value.</summary>
    public static byte[] Attribute(byte flags, byte type, params byte[] value) => [flags, type, (byte)value.Length, .. value];

    /// <summary>ORIGIN IGP, AS_PATH of one 4-octet AS, NEXT_HOP: the attributes of a plain eBGP route.</summary>
    public static byte[] BasicAttributes(uint asn, string nextHop) =>
    [
        .. Attribute(0x40, 1, 0),
        .. Attribute(0x40, 2, 2, 1, (byte)(asn >> 24), (byte)(asn >> 16), (byte)(asn >> 8), (byte)asn),
        .. Attribute(0x40, 3, IPAddress.Parse(nextHop).GetAddressBytes()),
    ];

    /// <summary>Marker, length and type around <paramref name="body"/> (RFC 4271 §4.1).</summary>
    public static byte[] Message(byte type, byte[] body)
    {
        var m = new byte[19 + body.Length];
        m.AsSpan(0, 16).Fill(0xFF);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(16), (ushort)m.Length);
        m[18] = type;
        body.CopyTo(m, 19);
        return m;
    }

    public async Task SendAsync(byte[] message)
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            await _stream.WriteAsync(message).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Reads one whole message, header included; null when the connection closed.</summary>
    public async Task<byte[]?> ReadAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var header = new byte[19];
        try
        {
            await _stream.ReadExactlyAsync(header, cts.Token).ConfigureAwait(false);
            var length = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(16));
            if (length < 19)
                throw new InvalidDataException($"bad message length {length}");
            var message = new byte[length];
            header.CopyTo(message, 0);
            await _stream.ReadExactlyAsync(message.AsMemory(19), cts.Token).ConfigureAwait(false);
            return message;
        }
        catch (Exception e) when (e is EndOfStreamException or IOException)
        {
            Closed = true;
            return null;
        }
    }

    /// <summary>Reads until a message of <paramref name="type"/> (skipping others); null when the connection closed first.</summary>
    public async Task<byte[]?> ReadUntilAsync(byte type, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            var left = until - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
                throw new TimeoutException($"no message of type {type} within {timeout}");
            var m = await ReadAsync(left).ConfigureAwait(false);
            if (m is null || m[18] == type)
                return m;
        }
    }

    /// <summary>OPEN both ways, then KEEPALIVE both ways: Established on the daemon's side.</summary>
    public async Task HandshakeAsync(uint asn, string routerId, ushort hold = 90)
    {
        await SendAsync(OpenMessage(asn, hold, routerId)).ConfigureAwait(false);
        _ = await ReadUntilAsync(Open, TimeSpan.FromSeconds(30)).ConfigureAwait(false) ?? throw new InvalidOperationException("closed before OPEN");
        await SendAsync(KeepaliveMessage()).ConfigureAwait(false);
        _ = await ReadUntilAsync(Keepalive, TimeSpan.FromSeconds(30)).ConfigureAwait(false) ?? throw new InvalidOperationException("closed before KEEPALIVE");
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync().ConfigureAwait(false);
        _writeLock.Dispose();
    }
}
