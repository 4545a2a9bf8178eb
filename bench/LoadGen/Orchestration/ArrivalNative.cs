using System.Runtime.InteropServices;

namespace Calico.Bgp.LoadGen.Orchestration;

/// <summary>
/// libc calls for <see cref="KernelArrivals"/>: its listener is a plain blocking netlink socket on a
/// thread of its own (moved into the DUT's namespace and pinned to a core), because an awaited
/// receive per notification cost tens of microseconds each and made the last of 400 routes look
/// about 10 ms later than the kernel had it.
/// </summary>
internal static partial class ArrivalNative
{
    public const int AfNetlink = 16;
    public const int SockRaw = 3;
    public const int SockCloexec = 0x80000;
    public const int NetlinkRoute = 0;
    public const int SolSocket = 1;
    public const int SoRcvbuf = 8;
    public const int SoRcvtimeo = 20;
    public const int SoRcvbufForce = 33;
    public const int CloneNewNet = 0x40000000;
    public const int ORdonlyCloexec = 0x80000;
    public const int Eintr = 4;
    public const int Eagain = 11;
    public const int Enobufs = 105;

    /// <summary>struct sockaddr_nl: family, pad, pid, groups (a bit mask of RTNLGRP_* − 1).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SockaddrNl
    {
        public ushort Family;
        public ushort Pad;
        public uint Pid;
        public uint Groups;
    }

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    public static partial int Bind(int fd, ref SockaddrNl address, int length);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    public static unsafe partial int SetSockOpt(int fd, int level, int name, void* value, int length);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    public static unsafe partial nint Recv(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    public static partial int SetNs(int fd, int nstype);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    public const int SchedFifo = 1;

    /// <summary>sched_setscheduler(2) for the calling thread (pid 0); the parameter is struct sched_param's one int.</summary>
    [LibraryImport("libc", EntryPoint = "sched_setscheduler", SetLastError = true)]
    public static partial int SchedSetScheduler(int pid, int policy, ref int priority);

    /// <summary>sched_setaffinity(2) for the calling thread (pid 0), with a mask of one 64-bit word.</summary>
    [LibraryImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    public static partial int SchedSetAffinity(int pid, nuint size, ref ulong mask);
}
