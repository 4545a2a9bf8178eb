using System.Runtime.InteropServices;

namespace Calico.Bgp.Fib.Netlink;

/// <summary>libc calls the managed Socket cannot make: an AF_NETLINK socket, its bind, and setns(2).</summary>
internal static partial class NativeMethods
{
    public const int SockRaw = 3;
    public const int SockCloexec = 0x80000;
    public const int ORdonly = 0;
    public const int OCloexec = 0x80000;
    /// <summary>CLONE_NEWNET, include/uapi/linux/sched.h.</summary>
    public const int CloneNewNet = 0x40000000;

    /// <summary>struct sockaddr_nl (include/uapi/linux/netlink.h): family, pad, pid, groups.</summary>
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

    [LibraryImport("libc", EntryPoint = "getsockname", SetLastError = true)]
    public static partial int GetSockName(int fd, ref SockaddrNl address, ref int length);

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    public static partial int SetNs(int fd, int nstype);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);
}
