using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Calico.Bgp.Rib;

/// <summary>
/// An IPv4 or IPv6 address as a 24-byte value: routes hold millions of these, so no
/// <see cref="IPAddress"/> object per route. IPv4 lives in the low 32 bits.
/// </summary>
/// <remarks>
/// Two <see cref="ulong"/>s and a flag rather than a <see cref="UInt128"/>: UInt128 is 16-byte aligned,
/// which made this 32 bytes and every <see cref="Prefix"/> 48. The family cannot hide in the 128 bits
/// (every IPv6 bit pattern is an address, ::ffff:a.b.c.d included), so it keeps a byte of its own.
/// </remarks>
public readonly struct IpAddr : IEquatable<IpAddr>, IComparable<IpAddr>
{
    private readonly ulong _hi;
    private readonly ulong _lo;
    private readonly bool _v6;

    internal IpAddr(ulong hi, ulong lo, bool v6)
    {
        _hi = hi;
        _lo = lo;
        _v6 = v6;
    }

    private IpAddr(UInt128 bits, bool v6)
        : this((ulong)(bits >> 64), (ulong)bits, v6)
    {
    }

    public static IpAddr V4Any => new(0, 0, false);
    public static IpAddr V6Any => new(0, 0, true);

    public bool IsV6 => _v6;
    public int BitLength => _v6 ? 128 : 32;
    public UInt128 Bits => new(_hi, _lo);
    public uint V4 => (uint)_lo;

    /// <summary>The high 64 bits (0 for IPv4); with <see cref="Lo"/> the table's packed form.</summary>
    internal ulong Hi => _hi;
    internal ulong Lo => _lo;

    public bool IsUnspecified => (_hi | _lo) == 0;

    /// <summary>IPv6 link-local unicast, fe80::/10.</summary>
    public bool IsV6LinkLocal => _v6 && _hi >> 54 == 0x3FA;

    public static IpAddr FromV4(uint value) => new(0, value, false);
    public static IpAddr FromV6(UInt128 value) => new(value, true);
    public static IpAddr FromBits(UInt128 bits, bool v6) => v6 ? new(bits, true) : new(0, (uint)bits, false);

    /// <summary>Reads 4 (IPv4) or 16 (IPv6) network-order bytes.</summary>
    public static IpAddr FromBytes(ReadOnlySpan<byte> bytes) => bytes.Length switch
    {
        4 => FromV4(BinaryPrimitives.ReadUInt32BigEndian(bytes)),
        16 => new IpAddr(BinaryPrimitives.ReadUInt128BigEndian(bytes), true),
        _ => throw new ArgumentException($"an address has 4 or 16 bytes, not {bytes.Length}", nameof(bytes)),
    };

    public static IpAddr FromIPAddress(IPAddress address)
    {
        Span<byte> b = stackalloc byte[16];
        address.TryWriteBytes(b, out var n);
        return FromBytes(b[..n]);
    }

    public IPAddress ToIPAddress()
    {
        Span<byte> b = stackalloc byte[16];
        var n = WriteBytes(b);
        return new IPAddress(b[..n]);
    }

    public AddressFamily Family => _v6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;

    /// <summary>Writes the address in network order; returns 4 or 16.</summary>
    public int WriteBytes(Span<byte> destination)
    {
        if (_v6)
        {
            BinaryPrimitives.WriteUInt64BigEndian(destination, _hi);
            BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _lo);
            return 16;
        }
        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)_lo);
        return 4;
    }

    public static bool TryParse(ReadOnlySpan<char> text, out IpAddr address)
    {
        address = default;
        if (!IPAddress.TryParse(text, out var ip))
            return false;
        // IPAddress accepts "10" or "10.1" as IPv4; BIRD's grammar and ours need dotted quads.
        if (ip.AddressFamily == AddressFamily.InterNetwork && text.Count('.') != 3)
            return false;
        if (ip.AddressFamily == AddressFamily.InterNetworkV6 && ip.ScopeId != 0)
            return false;
        address = FromIPAddress(ip);
        return true;
    }

    public static IpAddr Parse(string text) =>
        TryParse(text, out var a) ? a : throw new FormatException($"'{text}' is not an IP address");

    public bool Equals(IpAddr other) => _lo == other._lo && _hi == other._hi && _v6 == other._v6;
    public override bool Equals(object? obj) => obj is IpAddr o && Equals(o);
    public override int GetHashCode() => HashCode.Combine(_hi, _lo, _v6);
    public static bool operator ==(IpAddr a, IpAddr b) => a.Equals(b);
    public static bool operator !=(IpAddr a, IpAddr b) => !a.Equals(b);

    /// <summary>IPv4 sorts before IPv6, then numerically.</summary>
    public int CompareTo(IpAddr other) =>
        _v6 != other._v6 ? (_v6 ? 1 : -1) : _hi != other._hi ? _hi.CompareTo(other._hi) : _lo.CompareTo(other._lo);

    public static bool operator <(IpAddr a, IpAddr b) => a.CompareTo(b) < 0;
    public static bool operator >(IpAddr a, IpAddr b) => a.CompareTo(b) > 0;
    public static bool operator <=(IpAddr a, IpAddr b) => a.CompareTo(b) <= 0;
    public static bool operator >=(IpAddr a, IpAddr b) => a.CompareTo(b) >= 0;

    public override string ToString()
    {
        if (!_v6)
        {
            var v = (uint)_lo;
            return $"{v >> 24}.{(v >> 16) & 0xFF}.{(v >> 8) & 0xFF}.{v & 0xFF}";
        }
        return ToIPAddress().ToString();
    }
}
