using System.Buffers.Binary;
using System.Collections.Immutable;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Speaker.Wire;

/// <summary>AS_PATH / AS4_PATH encoding (RFC 4271 §4.3, RFC 6793 §4).</summary>
public static class AsPathCodec
{
    // Each segment: Type (1) | Count (1, in ASes) | ASes (2 or 4 octets each)

    /// <summary>Reads segments of <paramref name="asSize"/>-octet ASes; null when malformed (RFC 7606 §7.2).</summary>
    public static AsPath? TryRead(ReadOnlySpan<byte> v, int asSize)
    {
        if (v.IsEmpty)
            return AsPath.Empty;
        var segments = ImmutableArray.CreateBuilder<AsPathSegment>();
        while (!v.IsEmpty)
        {
            if (v.Length < 2)
                return null;
            var type = v[0];
            int count = v[1];
            // RFC 7606 §7.2: unknown segment type or zero count or overrun is malformed.
            if (type is < 1 or > 4 || count == 0 || v.Length < 2 + count * asSize)
                return null;
            var asns = ImmutableArray.CreateBuilder<uint>(count);
            for (var i = 0; i < count; i++)
            {
                var o = 2 + i * asSize;
                asns.Add(asSize == 4 ? BinaryPrimitives.ReadUInt32BigEndian(v[o..]) : BinaryPrimitives.ReadUInt16BigEndian(v[o..]));
            }
            segments.Add(new AsPathSegment((AsPathSegmentType)type, asns.MoveToImmutable()));
            v = v[(2 + count * asSize)..];
        }
        return new AsPath(segments.ToImmutable());
    }

    /// <summary>Bytes the path takes with <paramref name="asSize"/>-octet ASes.</summary>
    public static int EncodedLength(AsPath path, int asSize)
    {
        var n = 0;
        foreach (var s in path.Segments)
            n += 2 + s.Asns.Length * asSize;
        return n;
    }

    /// <summary>Writes the path; 2-octet encoding maps large ASes to AS_TRANS (RFC 6793 §4.2.2).</summary>
    public static int Write(Span<byte> d, AsPath path, int asSize)
    {
        var o = 0;
        foreach (var s in path.Segments)
        {
            d[o] = (byte)s.Type;
            d[o + 1] = (byte)s.Asns.Length;
            o += 2;
            foreach (var a in s.Asns)
            {
                if (asSize == 4)
                    BinaryPrimitives.WriteUInt32BigEndian(d[o..], a);
                else
                    BinaryPrimitives.WriteUInt16BigEndian(d[o..], a > ushort.MaxValue ? BgpConstants.AsTrans : (ushort)a);
                o += asSize;
            }
        }
        return o;
    }

    /// <summary>Whether a 2-octet session needs AS4_PATH to carry this path (RFC 6793 §4.2.2).</summary>
    public static bool NeedsAs4(AsPath path)
    {
        foreach (var s in path.Segments)
        {
            foreach (var a in s.Asns)
            {
                if (a > ushort.MaxValue)
                    return true;
            }
        }
        return false;
    }

    /// <summary>
    /// RFC 6793 §4.2.3: when AS_PATH has at least as many ASes as AS4_PATH, the leading
    /// (difference) ASes come from AS_PATH and the rest from AS4_PATH; otherwise AS4_PATH is ignored.
    /// </summary>
    public static AsPath Merge(AsPath asPath, AsPath as4Path)
    {
        var n2 = CountAses(asPath);
        var n4 = CountAses(as4Path);
        if (n2 < n4)
            return asPath;
        var keep = n2 - n4;
        var result = ImmutableArray.CreateBuilder<AsPathSegment>();
        foreach (var s in asPath.Segments)
        {
            if (keep == 0)
                break;
            var take = s.Type is AsPathSegmentType.Set or AsPathSegmentType.ConfedSet ? s.Asns.Length : Math.Min(keep, s.Asns.Length);
            result.Add(take == s.Asns.Length ? s : new AsPathSegment(s.Type, s.Asns[..take]));
            keep -= Math.Min(keep, s.Type is AsPathSegmentType.Set or AsPathSegmentType.ConfedSet ? 1 : take);
        }
        result.AddRange(as4Path.Segments);
        return new AsPath(result.ToImmutable());
    }

    /// <summary>AS count as RFC 6793 §4.2.3 counts it: an AS_SET counts as one.</summary>
    private static int CountAses(AsPath p)
    {
        var n = 0;
        foreach (var s in p.Segments)
            n += s.Type is AsPathSegmentType.Set or AsPathSegmentType.ConfedSet ? 1 : s.Asns.Length;
        return n;
    }
}
