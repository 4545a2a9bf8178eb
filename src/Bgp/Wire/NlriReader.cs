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
        // Where the rest of the field holds a whole address past the length byte, it is read in whole
        // words: the bytes past this entry's (the next entry's) are host bits, which the prefix clears.
        // Byte by byte, a message of a thousand IPv4 /24s took 16 % longer to read, of IPv6 /48s 27 %
        // (bench/RESULTS-perf.md, sixteenth round).
        Prefix prefix;
        if (!_v6)
        {
            uint v;
            if (_rest.Length > sizeof(uint))
                v = BinaryPrimitives.ReadUInt32BigEndian(_rest[1..]);
            else
            {
                // The 0-4 bytes sent, left-aligned in a 32-bit address (RFC 4271 §4.3: only the bytes the length needs).
                v = 0;
                for (var i = 0; i < bytes; i++)
                    v |= (uint)_rest[1 + i] << (24 - 8 * i);
            }
            prefix = Prefix.FromV4(v, bits);
        }
        else if (_rest.Length > 2 * sizeof(ulong))
            prefix = Prefix.FromV6(BinaryPrimitives.ReadUInt64BigEndian(_rest[1..]), BinaryPrimitives.ReadUInt64BigEndian(_rest[(1 + sizeof(ulong))..]), bits);
        else
            prefix = ReadV6(_rest.Slice(1, bytes), bits);
        _rest = _rest[(1 + bytes)..];
        Current = new Nlri(prefix, pathId);
        return true;
    }

    /// <summary>An IPv6 prefix from the <paramref name="field"/>'s bytes alone, where fewer than a whole address follow.</summary>
    private static Prefix ReadV6(ReadOnlySpan<byte> field, int bits)
    {
        Span<byte> addr = stackalloc byte[16];
        addr.Clear();
        field.CopyTo(addr);
        return Prefix.FromV6(BinaryPrimitives.ReadUInt64BigEndian(addr), BinaryPrimitives.ReadUInt64BigEndian(addr[sizeof(ulong)..]), bits);
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

    /// <summary>
    /// Writes one entry; returns the bytes written. With room for the whole address after the length
    /// byte, it writes the address in whole words and may leave up to 16 bytes of it past the entry
    /// (scratch that the next entry overwrites or the message never counts): a table's export writes
    /// a million of these, and byte by byte a message of a thousand IPv4 /24s took 3.2 times as long
    /// (bench/RESULTS-perf.md, sixteenth round).
    /// </summary>
    public static int Write(Span<byte> destination, in Nlri nlri, bool addPath)
    {
        var o = 0;
        if (addPath)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination, nlri.PathId);
            o = 4;
        }
        var length = nlri.Prefix.Length;
        var n = (length + 7) >> 3;
        destination[o] = length;
        var address = destination[(o + 1)..];
        if (!nlri.Prefix.IsV6)
        {
            var v = (uint)nlri.Prefix.Lo;
            if (address.Length >= sizeof(uint))
                BinaryPrimitives.WriteUInt32BigEndian(address, v);
            else
            {
                for (var i = 0; i < n; i++)
                    address[i] = (byte)(v >> (24 - 8 * i));
            }
        }
        else if (address.Length >= 2 * sizeof(ulong))
            nlri.Prefix.Address.WriteBytes(address);
        else
            WriteV6Bytes(address[..n], nlri.Prefix);
        return o + 1 + n;
    }

    /// <summary>The first <c>destination.Length</c> bytes of an IPv6 prefix's address, where the whole would not fit.</summary>
    private static void WriteV6Bytes(Span<byte> destination, in Prefix prefix)
    {
        Span<byte> whole = stackalloc byte[16];
        prefix.Address.WriteBytes(whole);
        whole[..destination.Length].CopyTo(destination);
    }
}
