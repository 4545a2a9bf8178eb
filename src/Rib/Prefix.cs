namespace Calico.Bgp.Rib;

/// <summary>An IPv4 or IPv6 prefix with its host bits cleared (BIRD's <c>net</c>).</summary>
public readonly struct Prefix : IEquatable<Prefix>, IComparable<Prefix>
{
    public Prefix(IpAddr address, int length)
    {
        if ((uint)length > (uint)address.BitLength)
            throw new ArgumentOutOfRangeException(nameof(length), $"prefix length {length} is out of range for {address}");
        Address = Mask(address, length);
        Length = (byte)length;
    }

    public IpAddr Address { get; }
    public byte Length { get; }
    public bool IsV6 => Address.IsV6;

    /// <summary>True when <paramref name="address"/> had host bits set beyond the length.</summary>
    public static bool HasHostBits(IpAddr address, int length) => Mask(address, length) != address;

    private static IpAddr Mask(IpAddr address, int length)
    {
        var width = address.BitLength;
        if (length >= width)
            return address;
        if (length == 0)
            return IpAddr.FromBits(0, address.IsV6);
        var keep = width - length;
        var bits = address.Bits >> keep << keep;
        return IpAddr.FromBits(bits, address.IsV6);
    }

    /// <summary>BIRD's <c>net ~ P</c>: this prefix lies inside <paramref name="outer"/> (or equals it).</summary>
    public bool IsWithin(Prefix outer) =>
        outer.IsV6 == IsV6 && Length >= outer.Length && Mask(Address, outer.Length) == outer.Address;

    /// <summary>Whether <paramref name="address"/> lies inside this prefix.</summary>
    public bool Contains(IpAddr address) =>
        address.IsV6 == IsV6 && Mask(address, Length) == Address;

    public static bool TryParse(ReadOnlySpan<char> text, out Prefix prefix)
    {
        prefix = default;
        var slash = text.IndexOf('/');
        if (slash < 0)
            return false;
        if (!IpAddr.TryParse(text[..slash], out var address))
            return false;
        if (!int.TryParse(text[(slash + 1)..], System.Globalization.NumberStyles.None, null, out var length) || length > address.BitLength)
            return false;
        prefix = new Prefix(address, length);
        return true;
    }

    public static Prefix Parse(string text) =>
        TryParse(text, out var p) ? p : throw new FormatException($"'{text}' is not a prefix");

    public bool Equals(Prefix other) => Length == other.Length && Address == other.Address;
    public override bool Equals(object? obj) => obj is Prefix o && Equals(o);
    public override int GetHashCode() => HashCode.Combine(Address, Length);
    public static bool operator ==(Prefix a, Prefix b) => a.Equals(b);
    public static bool operator !=(Prefix a, Prefix b) => !a.Equals(b);

    public int CompareTo(Prefix other)
    {
        var c = Address.CompareTo(other.Address);
        return c != 0 ? c : Length.CompareTo(other.Length);
    }

    public override string ToString() => $"{Address}/{Length}";
}
