using System.Buffers;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Calico.Bgp.Fib.Netlink;

/// <summary>
/// An rtnetlink socket (AF_NETLINK, NETLINK_ROUTE) wrapped in a managed <see cref="Socket"/>, so
/// waiting for the kernel is asynchronous (epoll) and never holds a thread-pool thread. Requests are
/// serialised: one batch or dump at a time, replies matched by sequence number.
/// </summary>
public sealed class NetlinkSocket : INetlinkListener
{
    // One datagram: the kernel builds each dump datagram in an skb of at most the last recvmsg
    // length, capped at SKB_WITH_OVERHEAD(32768) (net/netlink/af_netlink.c, netlink_recvmsg), or a
    // single message when that is bigger; a notification is one message.
    // 64 KiB rather than 256: each daemon holds one per listener and the pool keeps the dumps', and
    // a collection that moves one touches all of it (bench/RESULTS-perf.md, eighth round).
    private const int ReceiveBufferSize = 64 * 1024;
    private const int SocketBufferBytes = 4 * 1024 * 1024;
    private const int SolSocket = 1;
    private const int SoRcvbuf = 8;
    private const int SoRcvbufForce = 33;
    private const int SoAttachFilter = 26;

    private readonly Socket _socket;
    private uint _sequence;

    private NetlinkSocket(Socket socket, uint portId)
    {
        _socket = socket;
        PortId = portId;
        _sequence = (uint)Environment.TickCount;
    }

    /// <summary>The port id the kernel gave this socket; notifications caused by our own requests carry it.</summary>
    public uint PortId { get; }

    /// <summary>The socket's descriptor, for calls the managed Socket cannot make (recvmmsg in bench/Kernel's route counter).</summary>
    public SafeHandle Handle => _socket.SafeHandle;

    /// <summary>
    /// Opens a socket in the current network namespace, or, when <paramref name="netns"/> names one
    /// in /var/run/netns, in that namespace (for tests; the daemon itself runs inside its namespace).
    /// <paramref name="groups"/> are rtnetlink multicast groups to join (RTNLGRP_*), for a listener.
    /// </summary>
    public static NetlinkSocket Open(string? netns = null, IReadOnlyList<int>? groups = null) => Open(netns, groups, SocketBufferBytes);

    /// <summary>
    /// As <see cref="Open(string?, IReadOnlyList{int}?)"/> with a receive buffer of
    /// <paramref name="receiveBufferBytes"/>: a listener that must hear every route of a large burst
    /// (a benchmark's counter) asks for more than the default.
    /// </summary>
    public static NetlinkSocket Open(string? netns, IReadOnlyList<int>? groups, int receiveBufferBytes)
    {
        var fd = netns is null ? CreateFd() : CreateFdInNamespace(netns);
        var addr = new NativeMethods.SockaddrNl { Family = Nl.AfNetlink };
        var size = Marshal.SizeOf<NativeMethods.SockaddrNl>();
        if (NativeMethods.Bind(fd, ref addr, size) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            NativeMethods.Close(fd);
            throw new NetlinkException(errno, $"bind(AF_NETLINK): {Errno.Describe(errno)}");
        }
        var bound = new NativeMethods.SockaddrNl();
        NativeMethods.GetSockName(fd, ref bound, ref size);
        var socket = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
        var s = new NetlinkSocket(socket, bound.Pid);
        Span<byte> one = stackalloc byte[4];
        BitConverter.TryWriteBytes(one, 1);
        // Extended acks give the kernel's reason with the errno; capped acks keep error replies small.
        TrySetOption(socket, Nl.SolNetlink, Nl.ExtAck, one);
        TrySetOption(socket, Nl.SolNetlink, Nl.CapAck, one);
        Span<byte> buf = stackalloc byte[4];
        BitConverter.TryWriteBytes(buf, receiveBufferBytes);
        // A big receive buffer keeps a burst of notifications from overflowing (ENOBUFS); FORCE needs CAP_NET_ADMIN.
        if (!TrySetOption(socket, SolSocket, SoRcvbufForce, buf))
            TrySetOption(socket, SolSocket, SoRcvbuf, buf);
        Span<byte> group = stackalloc byte[4];
        foreach (var g in groups ?? [])
        {
            BitConverter.TryWriteBytes(group, g);
            socket.SetRawSocketOption(Nl.SolNetlink, Nl.AddMembership, group);
        }
        return s;
    }

    /// <summary>
    /// Attaches a classic BPF socket filter (SO_ATTACH_FILTER) that drops every datagram whose first
    /// message carries <paramref name="portId"/> (nlmsg_pid): route notifications caused by that
    /// socket's own requests. The kernel sends each notification in a datagram of its own, so a
    /// listener that only cares about other writers is not woken once per route we write. False when
    /// the kernel refuses the filter (then the listener skips them itself).
    /// </summary>
    public bool TryIgnorePort(uint portId)
    {
        // BPF_LD|BPF_W|BPF_ABS reads in network order; nlmsg_pid is in host (little-endian) order.
        var swapped = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(portId);
        ReadOnlySpan<ulong> program =
        [
            Bpf(0x20, 0, 0, 12),               // ld  [12]            nlmsg_pid
            Bpf(0x15, 0, 1, swapped),          // jeq #pid, drop, keep
            Bpf(0x06, 0, 0, 0),                // drop: ret #0
            Bpf(0x06, 0, 0, uint.MaxValue),    // keep: ret #-1 (the whole datagram)
        ];
        unsafe
        {
            fixed (ulong* code = program)
            {
                // struct sock_fprog { unsigned short len; struct sock_filter *filter; }, 64-bit layout.
                Span<byte> fprog = stackalloc byte[16];
                fprog.Clear();
                BitConverter.TryWriteBytes(fprog, (ushort)program.Length);
                BitConverter.TryWriteBytes(fprog[8..], (ulong)code);
                return TrySetOption(_socket, SolSocket, SoAttachFilter, fprog);
            }
        }
    }

    /// <summary>struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; } as one little-endian word.</summary>
    private static ulong Bpf(ushort code, byte jt, byte jf, uint k) => code | ((ulong)jt << 16) | ((ulong)jf << 24) | ((ulong)k << 32);

    private static bool TrySetOption(Socket socket, int level, int name, ReadOnlySpan<byte> value)
    {
        try
        {
            socket.SetRawSocketOption(level, name, value);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int CreateFd()
    {
        var fd = NativeMethods.Socket(Nl.AfNetlink, NativeMethods.SockRaw | NativeMethods.SockCloexec, Nl.NetlinkRoute);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new NetlinkException(errno, $"socket(AF_NETLINK): {Errno.Describe(errno)}");
        }
        return fd;
    }

    /// <summary>
    /// setns(2) changes the calling thread only, and a socket keeps the namespace it was created in:
    /// so a dedicated thread enters the namespace, creates the socket and goes back.
    /// </summary>
    private static int CreateFdInNamespace(string netns)
    {
        var fd = -1;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            var original = NativeMethods.Open("/proc/thread-self/ns/net", NativeMethods.ORdonly | NativeMethods.OCloexec);
            var target = NativeMethods.Open(Path.Combine("/var/run/netns", netns), NativeMethods.ORdonly | NativeMethods.OCloexec);
            try
            {
                if (original < 0 || target < 0)
                    throw new NetlinkException(Marshal.GetLastPInvokeError(), $"cannot open network namespace {netns}");
                if (NativeMethods.SetNs(target, NativeMethods.CloneNewNet) != 0)
                    throw new NetlinkException(Marshal.GetLastPInvokeError(), $"setns({netns}) failed");
                try
                {
                    fd = CreateFd();
                }
                finally
                {
                    // This thread ends right after, so a failure here cannot leak the namespace to other work.
                    NativeMethods.SetNs(original, NativeMethods.CloneNewNet);
                }
            }
            catch (Exception e)
            {
                error = e;
            }
            finally
            {
                if (original >= 0)
                    NativeMethods.Close(original);
                if (target >= 0)
                    NativeMethods.Close(target);
            }
        })
        {
            IsBackground = true,
            Name = "netns-socket",
        };
        thread.Start();
        thread.Join();
        if (error is not null)
            throw error;
        return fd;
    }

    /// <summary>Reserves <paramref name="count"/> consecutive sequence numbers and returns the first.</summary>
    public uint ReserveSequence(int count = 1) => Interlocked.Add(ref _sequence, (uint)count) - (uint)count + 1;

    public async Task SendAsync(ReadOnlyMemory<byte> messages, CancellationToken cancellationToken)
    {
        var sent = await _socket.SendAsync(messages, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        if (sent != messages.Length)
            throw new NetlinkException(Errno.Enobufs, $"netlink send wrote {sent} of {messages.Length} bytes");
    }

    /// <summary>Receives one datagram (one or more messages). ENOBUFS surfaces as <see cref="NetlinkException"/>.</summary>
    public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.NoBufferSpaceAvailable)
        {
            throw new NetlinkException(Errno.Enobufs, "netlink receive buffer overflowed; notifications were lost");
        }
    }

    /// <summary>
    /// Receives one datagram on the calling thread, waiting at most <paramref name="timeoutMs"/>
    /// milliseconds (0 bytes then). For a listener that runs on a thread of its own, so its CPU time
    /// can be read apart from the rest of the process (a benchmark's route counter).
    /// </summary>
    public int Receive(Span<byte> buffer, int timeoutMs)
    {
        if (_socket.ReceiveTimeout != timeoutMs)
            _socket.ReceiveTimeout = timeoutMs;
        try
        {
            return _socket.Receive(buffer, SocketFlags.None);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
        {
            return 0;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.NoBufferSpaceAvailable)
        {
            throw new NetlinkException(Errno.Enobufs, "netlink receive buffer overflowed; notifications were lost");
        }
    }

    /// <summary>A receive buffer big enough for one datagram of a dump.</summary>
    public static byte[] RentReceiveBuffer() => ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);

    public static void ReturnReceiveBuffer(byte[] buffer) => ArrayPool<byte>.Shared.Return(buffer);

    public void Dispose() => _socket.Dispose();
}
