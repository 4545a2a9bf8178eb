using System.Collections.Immutable;

namespace Calico.Bgp.Rib;

/// <summary>AS_PATH segment types, RFC 4271 §4.3 and RFC 5065 §3.</summary>
public enum AsPathSegmentType : byte
{
    Set = 1,
    Sequence = 2,
    ConfedSequence = 3,
    ConfedSet = 4,
}

/// <summary>One AS_PATH segment, always with 4-octet AS numbers (RFC 6793).</summary>
public readonly record struct AsPathSegment(AsPathSegmentType Type, ImmutableArray<uint> Asns)
{
    public bool Equals(AsPathSegment other) => Type == other.Type && Asns.AsSpan().SequenceEqual(other.Asns.AsSpan());

    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(Type);
        foreach (var a in Asns)
            h.Add(a);
        return h.ToHashCode();
    }
}

/// <summary>An immutable AS_PATH held with 4-octet AS numbers.</summary>
public sealed class AsPath : IEquatable<AsPath>
{
    public static readonly AsPath Empty = new(ImmutableArray<AsPathSegment>.Empty);

    public AsPath(ImmutableArray<AsPathSegment> segments)
    {
        Segments = segments;
        var h = new HashCode();
        foreach (var s in segments)
            h.Add(s);
        _hash = h.ToHashCode();
    }

    private readonly int _hash;

    public ImmutableArray<AsPathSegment> Segments { get; }

    public static AsPath FromSequence(params uint[] asns) =>
        asns.Length == 0 ? Empty : new AsPath([new AsPathSegment(AsPathSegmentType.Sequence, [.. asns])]);

    /// <summary>
    /// Path length for the decision process, RFC 4271 §9.1.2.2 a): an AS_SET counts 1,
    /// confederation segments count 0 (RFC 5065 §5.3).
    /// </summary>
    public int Length
    {
        get
        {
            var n = 0;
            foreach (var s in Segments)
            {
                n += s.Type switch
                {
                    AsPathSegmentType.Sequence => s.Asns.Length,
                    AsPathSegmentType.Set => 1,
                    _ => 0,
                };
            }
            return n;
        }
    }

    /// <summary>The neighbouring AS: first AS of the first AS_SEQUENCE, or 0 (RFC 4271 §9.1.2.2 c).</summary>
    public uint FirstAs =>
        Segments.Length > 0 && Segments[0].Type == AsPathSegmentType.Sequence && Segments[0].Asns.Length > 0
            ? Segments[0].Asns[0]
            : 0;

    /// <summary>The originating AS: last AS of the last AS_SEQUENCE, or 0.</summary>
    public uint LastAs
    {
        get
        {
            if (Segments.Length == 0)
                return 0;
            var last = Segments[^1];
            return last.Type == AsPathSegmentType.Sequence && last.Asns.Length > 0 ? last.Asns[^1] : 0;
        }
    }

    public bool Contains(uint asn)
    {
        foreach (var s in Segments)
        {
            if (s.Asns.Contains(asn))
                return true;
        }
        return false;
    }

    /// <summary>Counts occurrences of <paramref name="asn"/> (for <c>allow local as N</c>).</summary>
    public int Count(uint asn)
    {
        var n = 0;
        foreach (var s in Segments)
        {
            foreach (var a in s.Asns)
            {
                if (a == asn)
                    n++;
            }
        }
        return n;
    }

    /// <summary>Prepends <paramref name="asn"/> to the leading AS_SEQUENCE (RFC 4271 §5.1.2).</summary>
    public AsPath Prepend(uint asn)
    {
        if (Segments.Length > 0 && Segments[0].Type == AsPathSegmentType.Sequence && Segments[0].Asns.Length < 255)
        {
            var first = new AsPathSegment(AsPathSegmentType.Sequence, Segments[0].Asns.Insert(0, asn));
            return new AsPath(Segments.SetItem(0, first));
        }
        return new AsPath(Segments.Insert(0, new AsPathSegment(AsPathSegmentType.Sequence, [asn])));
    }

    public bool Equals(AsPath? other) =>
        other is not null && (ReferenceEquals(this, other) ||
            (_hash == other._hash && Segments.AsSpan().SequenceEqual(other.Segments.AsSpan())));

    public override bool Equals(object? obj) => Equals(obj as AsPath);
    public override int GetHashCode() => _hash;

    /// <summary>BIRD's format: <c>65000 65001 {1 2}</c>; confederation segments in parentheses.</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        foreach (var s in Segments)
        {
            var body = string.Join(' ', s.Asns);
            parts.Add(s.Type switch
            {
                AsPathSegmentType.Set => "{" + body + "}",
                AsPathSegmentType.ConfedSequence => "(" + body + ")",
                AsPathSegmentType.ConfedSet => "({" + body + "})",
                _ => body,
            });
        }
        return string.Join(' ', parts);
    }
}
