using System.Buffers.Binary;

namespace Calico.Bgp.Fib.Netlink;

/// <summary>One netlink message as read: struct nlmsghdr and the payload after it.</summary>
public readonly ref struct NetlinkMessage
{
    public NetlinkMessage(ushort type, ushort flags, uint sequence, uint portId, ReadOnlySpan<byte> payload)
    {
        Type = type;
        Flags = flags;
        Sequence = sequence;
        PortId = portId;
        Payload = payload;
    }

    public ushort Type { get; }
    public ushort Flags { get; }
    public uint Sequence { get; }
    public uint PortId { get; }
    public ReadOnlySpan<byte> Payload { get; }
}

/// <summary>Walks the messages of one received datagram (NLMSG_OK / NLMSG_NEXT).</summary>
public ref struct NetlinkMessageReader
{
    private ReadOnlySpan<byte> _rest;

    public NetlinkMessageReader(ReadOnlySpan<byte> datagram)
    {
        _rest = datagram;
        Current = default;
    }

    public NetlinkMessage Current { get; private set; }

    /// <summary>False at the end, or when a length is malformed (the rest is dropped).</summary>
    public bool MoveNext()
    {
        if (_rest.Length < Nl.HeaderLength)
            return false;
        var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(_rest);
        if (length < Nl.HeaderLength || length > _rest.Length)
            return false;
        Current = new NetlinkMessage(
            BinaryPrimitives.ReadUInt16LittleEndian(_rest[4..]),
            BinaryPrimitives.ReadUInt16LittleEndian(_rest[6..]),
            BinaryPrimitives.ReadUInt32LittleEndian(_rest[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(_rest[12..]),
            _rest[Nl.HeaderLength..length]);
        var next = Math.Min(Nl.Align(length), _rest.Length);
        _rest = _rest[next..];
        return true;
    }

    public readonly NetlinkMessageReader GetEnumerator() => this;
}

/// <summary>Walks struct rtattr items (RTA_OK / RTA_NEXT).</summary>
public ref struct NetlinkAttributeReader
{
    private ReadOnlySpan<byte> _rest;

    public NetlinkAttributeReader(ReadOnlySpan<byte> attributes)
    {
        _rest = attributes;
        Type = 0;
        Value = default;
    }

    /// <summary>The attribute type without NLA_F_NESTED / NLA_F_NET_BYTEORDER.</summary>
    public ushort Type { get; private set; }
    public ReadOnlySpan<byte> Value { get; private set; }

    public bool MoveNext()
    {
        if (_rest.Length < 4)
            return false;
        var length = BinaryPrimitives.ReadUInt16LittleEndian(_rest);
        if (length < 4 || length > _rest.Length)
            return false;
        Type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(_rest[2..]) & 0x3FFF);
        Value = _rest[4..length];
        _rest = _rest[Math.Min(Nl.Align(length), _rest.Length)..];
        return true;
    }

    public static uint U32(ReadOnlySpan<byte> value) =>
        value.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(value) : 0;

    /// <summary>A NUL-terminated string attribute (IFLA_IFNAME, NLMSGERR_ATTR_MSG).</summary>
    public static string String(ReadOnlySpan<byte> value) => System.Text.Encoding.UTF8.GetString(Text(value));

    /// <summary>A NUL-terminated string attribute's UTF-8 bytes, up to the NUL, in place.</summary>
    public static ReadOnlySpan<byte> Text(ReadOnlySpan<byte> value)
    {
        var nul = value.IndexOf((byte)0);
        return nul >= 0 ? value[..nul] : value;
    }
}
