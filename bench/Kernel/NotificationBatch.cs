using System.Runtime.InteropServices;
using Calico.Bgp.Lab;

namespace Calico.Bgp.KernelBench;

/// <summary>
/// recvmmsg(2) with MSG_DONTWAIT into <see cref="Capacity"/> slots of native memory: many netlink
/// datagrams (a route notification is one each) per call. struct mmsghdr and struct iovec as on
/// 64-bit Linux.
/// </summary>
public sealed unsafe partial class NotificationBatch : IDisposable
{
    private const int MsgDontWait = 0x40;
    private const int MsgTrunc = 0x20;

    [StructLayout(LayoutKind.Sequential)]
    private struct MmsgHdr
    {
        public MsgHdr Header;
        public uint Length;
    }

    private readonly int _slot;
    private readonly byte* _data;
    private readonly IoVec* _iov;
    private readonly MmsgHdr* _headers;

    public NotificationBatch(int capacity, int slotBytes)
    {
        Capacity = capacity;
        _slot = slotBytes;
        _data = (byte*)NativeMemory.AllocZeroed((nuint)(capacity * slotBytes));
        _iov = (IoVec*)NativeMemory.AllocZeroed((nuint)(capacity * sizeof(IoVec)));
        _headers = (MmsgHdr*)NativeMemory.AllocZeroed((nuint)(capacity * sizeof(MmsgHdr)));
        for (var i = 0; i < capacity; i++)
        {
            _iov[i].Base = _data + (i * slotBytes);
            _iov[i].Length = (nuint)slotBytes;
            _headers[i].Header.Iov = &_iov[i];
            _headers[i].Header.IovLength = 1;
        }
    }

    public int Capacity { get; }

    /// <summary>Datagrams read (at most <see cref="Capacity"/>), or -1 with <paramref name="errno"/> (EAGAIN: none queued).</summary>
    public int Receive(int fd, out int errno)
    {
        var n = Recvmmsg(fd, _headers, (uint)Capacity, MsgDontWait, null);
        errno = n < 0 ? Marshal.GetLastPInvokeError() : 0;
        return n;
    }

    /// <summary>The i-th datagram of the last <see cref="Receive"/>; one cut short by the slot's size is an error.</summary>
    public ReadOnlySpan<byte> Message(int i)
    {
        if ((_headers[i].Header.Flags & MsgTrunc) != 0)
            throw new InvalidOperationException($"a notification did not fit {_slot} bytes");
        return new ReadOnlySpan<byte>(_data + (i * _slot), (int)_headers[i].Length);
    }

    public void Dispose()
    {
        NativeMemory.Free(_data);
        NativeMemory.Free(_iov);
        NativeMemory.Free(_headers);
    }

    [LibraryImport("libc", EntryPoint = "recvmmsg", SetLastError = true)]
    private static partial int Recvmmsg(int fd, MmsgHdr* headers, uint count, int flags, void* timeout);
}
