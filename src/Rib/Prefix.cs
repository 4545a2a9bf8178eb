namespace Calico.Bgp.Rib;

/// <summary>An IPv4 or IPv6 prefix with its host bits cleared (BIRD's <c>net</c>).</summary>
/// <remarks>
/// Holds the address's words itself rather than an <see cref="IpAddr"/> field, so the length and the
/// family share the padding after them: 24 bytes where an IpAddr field and a length would take 32.
/// </remarks>
public readonly struct Prefix : IEquatable<Prefix>, IComparable<Prefix>
{
    private readonly ulong _hi;
    private readonly ulong _lo;
    private readonly byte _length;
    private readonly bool _v6;

    public Prefix(IpAddr address, int length)
    {
        if ((uint)length > (uint)address.BitLength)
            throw new ArgumentOutOfRangeException(nameof(length), $"prefix length {length} is out of range for {address}");
        var masked = Mask(address, length);
        _hi = masked.Hi;
        _lo = masked.Lo;
        _length = (byte)length;
        _v6 = address.IsV6;
    }

    /// <summary>From words already masked (a route's packed prefix): no check, no masking.</summary>
    internal Prefix(ulong hi, ulong lo, byte length, bool v6)
    {
        _hi = hi;
        _lo = lo;
        _length = length;
        _v6 = v6;
    }

    /// <summary>
    /// An IPv4 prefix from its address as a number, host bits cleared: what an NLRI reader needs per
    /// received prefix, without the 128-bit arithmetic of the general constructor.
    /// </summary>
    public static Prefix FromV4(uint address, int length)
    {
        if ((uint)length > 32)
            throw new ArgumentOutOfRangeException(nameof(length), $"prefix length {length} is out of range for IPv4");
        var masked = length == 0 ? 0u : address & (uint.MaxValue << (32 - length));
        return new Prefix(0, masked, (byte)length, false);
    }

    /// <summary>An IPv6 prefix from its address's two 64-bit halves (big-endian order), host bits cleared.</summary>
    public static Prefix FromV6(ulong hi, ulong lo, int length)
    {
        if ((uint)length > 128)
            throw new ArgumentOutOfRangeException(nameof(length), $"prefix length {length} is out of range for IPv6");
        if (length <= 64)
        {
            lo = 0;
            hi = length == 0 ? 0 : hi & (ulong.MaxValue << (64 - length));
        }
        else
            lo &= ulong.MaxValue << (128 - length);
        return new Prefix(hi, lo, (byte)length, true);
    }

    public IpAddr Address => new(_hi, _lo, _v6);
    public byte Length => _length;
    public bool IsV6 => _v6;

    /// <summary>The address's high 64 bits (IPv6; 0 for IPv4): maps that keep the key inline read the words without 128-bit arithmetic.</summary>
    public ulong Hi => _hi;

    /// <summary>The address's low 64 bits (an IPv4 address is its low 32).</summary>
    public ulong Lo => _lo;

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

    public bool Equals(Prefix other) =>
        _lo == other._lo && _hi == other._hi && _length == other._length && _v6 == other._v6;

    public override bool Equals(object? obj) => obj is Prefix o && Equals(o);
    public override int GetHashCode() => HashCode.Combine(_hi, _lo, _length | (_v6 ? 0x100 : 0));
    public static bool operator ==(Prefix a, Prefix b) => a.Equals(b);
    public static bool operator !=(Prefix a, Prefix b) => !a.Equals(b);

    public int CompareTo(Prefix other)
    {
        var c = Address.CompareTo(other.Address);
        return c != 0 ? c : Length.CompareTo(other.Length);
    }

    public override string ToString() => $"{Address}/{Length}";
}
