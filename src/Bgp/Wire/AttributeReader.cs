namespace Calico.Bgp.Speaker.Wire;

/// <summary>Path attribute type codes (RFC 4271 §5 and the extension RFCs).</summary>
public enum AttributeType : byte
{
    Origin = 1,
    AsPath = 2,
    NextHop = 3,
    MultiExitDisc = 4,
    LocalPref = 5,
    AtomicAggregate = 6,
    Aggregator = 7,
    Communities = 8,
    OriginatorId = 9,
    ClusterList = 10,
    MpReachNlri = 14,
    MpUnreachNlri = 15,
    ExtendedCommunities = 16,
    As4Path = 17,
    As4Aggregator = 18,
    LargeCommunities = 32,
}

/// <summary>Attribute flag bits, RFC 4271 §4.3.</summary>
public static class AttributeFlags
{
    public const byte Optional = 0x80;
    public const byte Transitive = 0x40;
    public const byte Partial = 0x20;
    public const byte ExtendedLength = 0x10;
}

/// <summary>One raw attribute: flags, type and value bytes.</summary>
public readonly ref struct RawPathAttribute(byte flags, byte type, ReadOnlySpan<byte> value, ReadOnlySpan<byte> whole)
{
    public byte Flags { get; } = flags;
    public byte Type { get; } = type;
    public ReadOnlySpan<byte> Value { get; } = value;
    /// <summary>The attribute with its header, the data of an UPDATE error NOTIFICATION (RFC 4271 §6.3).</summary>
    public ReadOnlySpan<byte> Whole { get; } = whole;
    public bool IsOptional => (Flags & AttributeFlags.Optional) != 0;
    public bool IsTransitive => (Flags & AttributeFlags.Transitive) != 0;
}

/// <summary>
/// Walks the Path Attributes field (RFC 4271 §4.3: Attr. Flags (1) | Type Code (1) | Length (1 or 2) | Value)
/// without allocating. <see cref="Overrun"/> is set when an attribute's length runs past the field.
/// </summary>
public ref struct AttributeReader
{
    private ReadOnlySpan<byte> _rest;
    private byte _flags;
    private byte _type;
    private int _headerLength;
    private int _valueLength;
    private ReadOnlySpan<byte> _current;

    public AttributeReader(ReadOnlySpan<byte> attributes)
    {
        _rest = attributes;
        Overrun = false;
    }

    public bool Overrun { get; private set; }

    public readonly RawPathAttribute Current =>
        new(_flags, _type, _current.Slice(_headerLength, _valueLength), _current);

    public bool MoveNext()
    {
        if (_rest.IsEmpty || Overrun)
            return false;
        if (_rest.Length < 3)
            return Fail();
        _flags = _rest[0];
        _type = _rest[1];
        var extended = (_flags & AttributeFlags.ExtendedLength) != 0;
        _headerLength = extended ? 4 : 3;
        if (_rest.Length < _headerLength)
            return Fail();
        _valueLength = extended ? (_rest[2] << 8) | _rest[3] : _rest[2];
        if (_rest.Length < _headerLength + _valueLength)
            return Fail();
        _current = _rest[..(_headerLength + _valueLength)];
        _rest = _rest[(_headerLength + _valueLength)..];
        return true;
    }

    private bool Fail()
    {
        Overrun = true;
        return false;
    }
}
