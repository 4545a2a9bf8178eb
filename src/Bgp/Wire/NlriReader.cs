using System.Buffers.Binary;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Speaker.Wire;

/// <summary>One NLRI entry: a prefix and, with ADD-PATH, its path identifier (RFC 7911 §3).</summary>
public readonly record struct Nlri(Prefix Prefix, uint PathId = 0);

/// <summary>
/// Reads NLRI (RFC 4271 §4.3: Length (1) | Prefix (variable), optionally preceded by a 4-byte
/// Path Identifier, RFC 7911 §3) without allocating: a ref struct enumerator over the bytes.
/// After the loop, <see cref="Malformed"/> says whether the field was cut short or a length was out of range.
/// </summary>
public ref struct NlriReader
{
    private ReadOnlySpan<byte> _rest;
    private readonly bool _v6;
    private readonly bool _addPath;

    public NlriReader(ReadOnlySpan<byte> data, bool v6, bool addPath)
    {
        _rest = data;
        _v6 = v6;
        _addPath = addPath;
        Current = default;
        Malformed = false;
    }

    public Nlri Current { get; private set; }
    public bool Malformed { get; private set; }

    public readonly NlriReader GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_rest.IsEmpty || Malformed)
            return false;
        uint pathId = 0;
        if (_addPath)
        {
            if (_rest.Length < 4)
                return Fail();
            pathId = BinaryPrimitives.ReadUInt32BigEndian(_rest);
            _rest = _rest[4..];
        }
        if (_rest.IsEmpty)
            return Fail();
        int bits = _rest[0];
        var max = _v6 ? 128 : 32;
        var bytes = (bits + 7) / 8;
        if (bits > max || _rest.Length < 1 + bytes)
            return Fail();
        var field = _rest.Slice(1, bytes);
        Prefix prefix;
        if (!_v6)
        {
            // The 0-4 bytes sent, left-aligned in a 32-bit address (RFC 4271 §4.3: only the bytes the length needs).
            uint v = 0;
            for (var i = 0; i < field.Length; i++)
                v |= (uint)field[i] << (24 - 8 * i);
            prefix = Prefix.FromV4(v, bits);
        }
        else
        {
            Span<byte> addr = stackalloc byte[16];
            addr.Clear();
            field.CopyTo(addr);
            prefix = Prefix.FromV6(BinaryPrimitives.ReadUInt64BigEndian(addr), BinaryPrimitives.ReadUInt64BigEndian(addr[8..]), bits);
        }
        _rest = _rest[(1 + bytes)..];
        Current = new Nlri(prefix, pathId);
        return true;
    }

    private bool Fail()
    {
        Malformed = true;
        return false;
    }

    /// <summary>Whether the whole field parses; used before any route is applied (RFC 7606 §5.3).</summary>
    /// <remarks>
    /// Walks the lengths only, the same checks as <see cref="MoveNext"/> without building a prefix:
    /// every received field is read twice, and this pass was half of the reader's time.
    /// </remarks>
    public static bool Validate(ReadOnlySpan<byte> data, bool v6, bool addPath)
    {
        var max = v6 ? 128 : 32;
        var skip = addPath ? 4 : 0;
        var o = 0;
        while (o < data.Length)
        {
            o += skip;
            if (o >= data.Length)
                return false;
            int bits = data[o];
            if (bits > max)
                return false;
            o += 1 + (bits + 7) / 8;
            if (o > data.Length)
                return false;
        }
        return true;
    }

    /// <summary>Bytes one entry takes on the wire.</summary>
    public static int EncodedLength(Prefix prefix, bool addPath) => (addPath ? 4 : 0) + 1 + (prefix.Length + 7) / 8;

    /// <summary>Writes one entry; returns the bytes written.</summary>
    public static int Write(Span<byte> destination, in Nlri nlri, bool addPath)
    {
        var o = 0;
        if (addPath)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination, nlri.PathId);
            o = 4;
        }
        var prefix = nlri.Prefix;
        destination[o++] = prefix.Length;
        var n = (prefix.Length + 7) / 8;
        var address = prefix.Address;
        if (!prefix.IsV6)
        {
            // Straight from the 32-bit value, most significant byte first: no address copied per NLRI.
            var v = address.V4;
            for (var i = 0; i < n; i++)
                destination[o + i] = (byte)(v >> (24 - 8 * i));
        }
        else
        {
            Span<byte> addr = stackalloc byte[16];
            address.WriteBytes(addr);
            addr[..n].CopyTo(destination[o..]);
        }
        return o + n;
    }
}
