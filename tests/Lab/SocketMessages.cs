using System.Runtime.InteropServices;

namespace Calico.Bgp.Lab;

/// <summary>struct iovec as on 64-bit Linux, for the benches' recvmsg(2) and recvmmsg(2).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct IoVec
{
    public byte* Base;
    public nuint Length;
}

/// <summary>struct msghdr as on 64-bit Linux (socket(2)'s recvmsg, sendmsg and the mmsghdr that wraps it).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct MsgHdr
{
    public void* Name;
    public uint NameLength;
    public IoVec* Iov;
    public nuint IovLength;
    public void* Control;
    public nuint ControlLength;
    public int Flags;
}
