using System.Buffers;
using System.Buffers.Binary;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Fib.Netlink;

/// <summary>
/// Builds netlink messages, many to a buffer, in a pooled array: every item starts 4-byte aligned
/// (NLMSG_ALIGN / RTA_ALIGN) and lengths of messages and nested attributes are written when their
/// scope ends (back-patched), so no size has to be known up front. Host byte order, as netlink is.
/// </summary>
public sealed class NetlinkWriter : IDisposable
{
    private byte[] _buffer;
    private int _length;
    private int _messageStart = -1;
    private int _lastMessageStart = -1;
    private int _messages;

    public NetlinkWriter(int initialCapacity = 16 * 1024)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(initialCapacity);
    }

    /// <summary>The bytes written so far (complete messages once <see cref="EndMessage"/> ran).</summary>
    public ReadOnlyMemory<byte> Written => _buffer.AsMemory(0, _length);
    public int Length => _length;
    public int MessageCount => _messages;

    public void Clear()
    {
        _length = 0;
        _messageStart = -1;
        _lastMessageStart = -1;
        _messages = 0;
    }

    /// <summary>Starts a message: writes a struct nlmsghdr whose length is patched by <see cref="EndMessage"/>.</summary>
    public void BeginMessage(ushort type, ushort flags, uint sequence, uint portId = 0)
    {
        if (_messageStart >= 0)
            throw new InvalidOperationException("the previous message was not ended");
        _messageStart = _length;
        var h = Reserve(Nl.HeaderLength);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(h[8..], sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], portId);
    }

    public void EndMessage()
    {
        if (_messageStart < 0)
            throw new InvalidOperationException("no message was begun");
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_messageStart), (uint)(_length - _messageStart));
        _lastMessageStart = _messageStart;
        _messageStart = -1;
        _messages++;
    }

    /// <summary>Adds <paramref name="flags"/> to the last ended message (NLM_F_ACK on the last request of a batch).</summary>
    public void AddFlagsToLastMessage(ushort flags)
    {
        if (_lastMessageStart < 0)
            throw new InvalidOperationException("no message was ended");
        var at = _buffer.AsSpan(_lastMessageStart + 6);
        BinaryPrimitives.WriteUInt16LittleEndian(at, (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(at) | flags));
    }

    /// <summary>Undoes a begun message (used when a batch is split before it).</summary>
    public void AbandonMessage()
    {
        if (_messageStart < 0)
            return;
        _length = _messageStart;
        _messageStart = -1;
    }

    /// <summary>
    /// Reserves <paramref name="size"/> zeroed bytes (padded to 4) and returns them for a fixed
    /// header such as struct rtmsg.
    /// </summary>
    public Span<byte> Reserve(int size)
    {
        var padded = Nl.Align(size);
        Ensure(padded);
        var span = _buffer.AsSpan(_length, padded);
        span.Clear();
        _length += padded;
        return span[..size];
    }

    /// <summary>struct rtattr: len(u16), type(u16), payload, padding to 4 (RTA_LENGTH / RTA_ALIGN).</summary>
    public void Attribute(ushort type, ReadOnlySpan<byte> payload)
    {
        var a = Reserve(4 + payload.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(a, (ushort)(4 + payload.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(a[2..], type);
        payload.CopyTo(a[4..]);
    }

    public void AttributeU32(ushort type, uint value)
    {
        Span<byte> v = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(v, value);
        Attribute(type, v);
    }

    /// <summary>An address attribute in network order (4 or 16 bytes).</summary>
    public void AttributeAddress(ushort type, IpAddr address)
    {
        Span<byte> v = stackalloc byte[16];
        var n = address.WriteBytes(v);
        Attribute(type, v[..n]);
    }

    /// <summary>Opens a nested attribute; pass the result to <see cref="EndNested"/>.</summary>
    public int BeginNested(ushort type)
    {
        var start = _length;
        var a = Reserve(4);
        BinaryPrimitives.WriteUInt16LittleEndian(a[2..], type);
        return start;
    }

    public void EndNested(int start) =>
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(start), (ushort)(_length - start));

    /// <summary>Opens a struct rtnexthop inside RTA_MULTIPATH; its attributes follow; close with <see cref="EndNested"/>.</summary>
    public int BeginNexthop(byte flags, byte hops, int interfaceIndex)
    {
        var start = _length;
        var n = Reserve(Rtnl.RtNexthopLength);
        n[2] = flags;
        n[3] = hops;
        BinaryPrimitives.WriteInt32LittleEndian(n[4..], interfaceIndex);
        return start;
    }

    private void Ensure(int more)
    {
        if (_length + more <= _buffer.Length)
            return;
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + more));
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    public void Dispose()
    {
        var b = _buffer;
        _buffer = [];
        _length = 0;
        if (b.Length > 0)
            ArrayPool<byte>.Shared.Return(b);
    }
}
