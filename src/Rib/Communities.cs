namespace Calico.Bgp.Rib;

/// <summary>A standard community (RFC 1997), BIRD's <c>(asn, value)</c> pair.</summary>
public readonly record struct Community(ushort Asn, ushort Value)
{
    public uint Raw => ((uint)Asn << 16) | Value;
    public static Community FromRaw(uint raw) => new((ushort)(raw >> 16), (ushort)raw);
    public override string ToString() => $"({Asn},{Value})";
}

/// <summary>A large community (RFC 8092), BIRD's <c>(global, local1, local2)</c> triple.</summary>
public readonly record struct LargeCommunity(uint Global, uint Local1, uint Local2)
{
    public override string ToString() => $"({Global}, {Local1}, {Local2})";
}

/// <summary>An attribute this speaker does not interpret, passed on as bytes (RFC 4271 §5).</summary>
public sealed record RawAttribute(byte Flags, byte TypeCode, ReadOnlyMemory<byte> Value)
{
    public bool Equals(RawAttribute? other) =>
        other is not null && Flags == other.Flags && TypeCode == other.TypeCode && Value.Span.SequenceEqual(other.Value.Span);

    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(Flags);
        h.Add(TypeCode);
        h.AddBytes(Value.Span);
        return h.ToHashCode();
    }
}
