using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Calico.Bgp.Lab;

namespace Calico.Bgp.LoadGen.Agent;

/// <summary>
/// Receives on a TCP socket with the kernel's own receive timestamp (<c>SO_TIMESTAMPNS</c>, the
/// time of the newest segment the read returned, socket(7)), as a <see cref="Stopwatch"/> timestamp.
/// </summary>
/// <remarks>
/// P4's monitors stamp each announcement with it, so the latency they report ends where the DUT's
/// send reached the monitor's socket, not where the generator's thread pool got round to reading it:
/// with ten monitors on one core that was up to milliseconds of the generator's own scheduling in
/// every daemon's p99 (bench/RESULTS-perf.md, twenty-third round). The kernel stamps in
/// CLOCK_REALTIME; the offset to the monotonic clock is read at each receive.
/// </remarks>
internal static unsafe partial class KernelReceiveStamp
{
    private const int SolSocket = 1;
    private const int SoTimestampNs = 35; // SO_TIMESTAMPNS_OLD; its control message is SCM_TIMESTAMPNS, a 64-bit timespec
    private const int MsgDontWait = 0x40;
    private const int EAgain = 11;

    /// <summary>Asks the kernel to stamp what <paramref name="socket"/> receives.</summary>
    public static void Enable(Socket socket) => socket.SetRawSocketOption(SolSocket, SoTimestampNs, BitConverter.GetBytes(1));

    /// <summary>
    /// One non-blocking read into <paramref name="buffer"/>: the bytes read (0 at the peer's close, -1
    /// when nothing was waiting) and the newest segment's arrival as a Stopwatch timestamp (0 if the
    /// kernel gave none).
    /// </summary>
    public static int Receive(Socket socket, Span<byte> buffer, out long stamp)
    {
        stamp = 0;
        var control = stackalloc byte[64];
        fixed (byte* data = buffer)
        {
            var iov = new IoVec { Base = data, Length = (nuint)buffer.Length };
            var msg = new MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = 64 };
            var n = RecvMsg((int)socket.Handle, &msg, MsgDontWait);
            if (n < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == EAgain)
                    return -1;
                throw new SocketException(errno);
            }
            // cmsghdr: size_t len, int level, int type, then the data aligned to 8 bytes.
            for (nuint off = 0; off + 16 <= msg.ControlLength;)
            {
                var len = *(nuint*)(control + off);
                if (len < 16)
                    break;
                if (*(int*)(control + off + 8) == SolSocket && *(int*)(control + off + 12) == SoTimestampNs && len >= 32)
                {
                    var sec = *(long*)(control + off + 16);
                    var nsec = *(long*)(control + off + 24);
                    stamp = ToStopwatch((sec * 1_000_000_000) + nsec);
                }
                off += (len + 7) & ~(nuint)7;
            }
            return (int)n;
        }
    }

    /// <summary>A CLOCK_REALTIME time in ns as a Stopwatch (monotonic) timestamp, by the two clocks' offset now.</summary>
    /// <remarks>
    /// The offset is read between two monotonic reads, and again if they lie far apart: a thread
    /// preempted between reading the two clocks once made a receipt look 0.64 ms older than its send.
    /// </remarks>
    private static long ToStopwatch(long realtimeNs)
    {
        var ticksPerNs = Stopwatch.Frequency / 1e9;
        long bestOffsetNs = 0, bestWidth = long.MaxValue;
        for (var i = 0; i < 5 && bestWidth > 20_000 * ticksPerNs; i++)
        {
            var before = Stopwatch.GetTimestamp();
            var realNs = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
            var after = Stopwatch.GetTimestamp();
            if (after - before < bestWidth)
            {
                bestWidth = after - before;
                bestOffsetNs = realNs - (long)((before + after) / 2 / ticksPerNs);
            }
        }
        return (long)((realtimeNs - bestOffsetNs) * ticksPerNs);
    }

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    private static partial nint RecvMsg(int fd, MsgHdr* msg, int flags);
}
