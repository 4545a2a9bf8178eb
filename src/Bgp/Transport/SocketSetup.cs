using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Speaker.Transport;

/// <summary>Socket options BIRD sets on BGP sockets: TTL, GTSM (RFC 5082) and TCP MD5 (RFC 2385).</summary>
public static class SocketSetup
{
    private const int IpProtoIp = 0;
    private const int IpProtoIpv6 = 41;
    private const int IpProtoTcp = 6;
    private const int IpTtl = 2;
    private const int IpMinTtl = 21;
    private const int Ipv6MinHopCount = 73;
    private const int TcpMd5Sig = 14;
    private const int Md5SigStructSize = 216;
    private const int Md5MaxKeyLength = 80;

    /// <summary>
    /// TTL as BIRD chooses it: 255 with <c>ttl security</c> (and minimum TTL 256 − hops),
    /// otherwise the multihop count, 1 for a direct eBGP session and 64 for iBGP.
    /// </summary>
    public static void ApplyTtl(Socket socket, BgpProtocolOptions o)
    {
        var hops = o.Multihop ?? (o.IsInternal ? 64 : 1);
        var ttl = o.TtlSecurity ? 255 : hops;
        SetTtl(socket, ttl);
        if (o.TtlSecurity)
        {
            var min = 256 - (o.Multihop ?? 1);
            if (socket.AddressFamily == AddressFamily.InterNetworkV6)
                socket.SetRawSocketOption(IpProtoIpv6, Ipv6MinHopCount, BitConverter.GetBytes(min));
            if (socket.AddressFamily == AddressFamily.InterNetwork || socket.DualMode)
                socket.SetRawSocketOption(IpProtoIp, IpMinTtl, BitConverter.GetBytes(min));
        }
    }

    /// <summary>
    /// The listening socket sends with TTL 255, as BIRD's (<c>bgp_open</c>): its SYN-ACK is the first
    /// packet a connecting peer gets from us, and a peer with <c>ttl security</c> has IP_MINTTL set
    /// on its connecting socket (RFC 5082 §3), so an answer at the default TTL of 64 was dropped and
    /// its connections to us could never complete. Each accepted socket then gets its session's own
    /// TTL (<see cref="ApplyTtl"/>).
    /// </summary>
    public static void ApplyListenerTtl(Socket socket) => SetTtl(socket, 255);

    /// <summary>
    /// Sets the TTL (hop limit) of what <paramref name="socket"/> sends. On an IPv6 socket Socket.Ttl is
    /// the hop limit only; a dual-mode one (the listener binding no address, and what it accepts)
    /// talks IPv4 to an IPv4 peer with the IPv4 TTL, which otherwise stays at the default 64: under
    /// GTSM the peer dropped every message of such a connection.
    /// </summary>
    private static void SetTtl(Socket socket, int ttl)
    {
        socket.Ttl = (short)ttl;
        if (socket.AddressFamily == AddressFamily.InterNetworkV6 && socket.DualMode)
            socket.SetRawSocketOption(IpProtoIp, IpTtl, BitConverter.GetBytes(ttl));
    }

    /// <summary>
    /// Sets (or with a null key clears) the TCP MD5 key for <paramref name="peer"/> with
    /// setsockopt(TCP_MD5SIG) and Linux's <c>struct tcp_md5sig</c>.
    /// </summary>
    public static void SetMd5(Socket socket, IpAddr peer, string? key)
    {
        var buf = new byte[Md5SigStructSize];
        var keyBytes = key is null ? [] : Encoding.UTF8.GetBytes(key);
        if (keyBytes.Length > Md5MaxKeyLength)
            throw new ArgumentException("TCP MD5 keys have at most 80 bytes", nameof(key));
        // struct sockaddr_storage (128): family in host order, then port and address in network order.
        if (socket.AddressFamily == AddressFamily.InterNetworkV6)
        {
            BitConverter.TryWriteBytes(buf.AsSpan(0, 2), (ushort)10);
            var v6 = peer.IsV6 ? peer.Bits : ((UInt128)0xFFFF << 32) | peer.V4;
            BinaryPrimitives.WriteUInt128BigEndian(buf.AsSpan(8, 16), v6);
        }
        else
        {
            BitConverter.TryWriteBytes(buf.AsSpan(0, 2), (ushort)2);
            peer.WriteBytes(buf.AsSpan(4, 4));
        }
        // flags (1), prefixlen (1), keylen (2, host order), ifindex (4), key (80).
        BitConverter.TryWriteBytes(buf.AsSpan(130, 2), (ushort)keyBytes.Length);
        keyBytes.CopyTo(buf.AsSpan(136));
        socket.SetRawSocketOption(IpProtoTcp, TcpMd5Sig, buf);
    }
}
