using System.Collections.Immutable;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Config.Filters;

/// <summary>Comparison and matching operators, chosen once per expression from the static types.</summary>
internal static class Operations
{
    public static Func<FilterValue, FilterValue, bool> Equality(FilterType t) => t switch
    {
        FilterType.Ip => static (a, b) => a.Ip == b.Ip,
        FilterType.Prefix => static (a, b) => a.Ip == b.Ip && a.Int == b.Int,
        FilterType.String => static (a, b) => string.Equals(a.String, b.String, StringComparison.Ordinal),
        FilterType.Path => static (a, b) => Equals(a.Obj, b.Obj),
        FilterType.Lc => static (a, b) => Equals(a.Obj, b.Obj),
        FilterType.Clist => static (a, b) => a.Clist.SequenceEqual(b.Clist),
        FilterType.LClist => static (a, b) => a.LClist.SequenceEqual(b.LClist),
        _ => static (a, b) => a.Int == b.Int,
    };

    public static Func<FilterValue, FilterValue, int> Ordering(FilterType t) => t switch
    {
        FilterType.Ip => static (a, b) => a.Ip.CompareTo(b.Ip),
        FilterType.Prefix => static (a, b) => a.Prefix.CompareTo(b.Prefix),
        FilterType.String => static (a, b) => string.CompareOrdinal(a.String, b.String),
        _ => static (a, b) => a.Int.CompareTo(b.Int),
    };

    /// <summary>BIRD's <c>~</c> for the given operand types, or null when the types do not match.</summary>
    public static Func<FilterValue, FilterValue, bool>? Match(FilterType left, FilterType right) => (left, right) switch
    {
        (FilterType.Prefix, FilterType.Prefix) => static (a, b) => a.Prefix.IsWithin(b.Prefix),
        (FilterType.Ip, FilterType.Prefix) => static (a, b) => b.Prefix.Contains(a.Ip),
        (FilterType.Prefix, FilterType.PrefixSet) => static (a, b) => ((PrefixSet)b.Obj!).Matches(a.Prefix),
        (FilterType.Ip, FilterType.PrefixSet) => static (a, b) => ((PrefixSet)b.Obj!).Matches(new Prefix(a.Ip, a.Ip.BitLength)),
        (FilterType.String, FilterType.String) => static (a, b) => ShellPattern.Matches(b.String, a.String),
        (FilterType.Int, FilterType.IntSet) or (FilterType.Source, FilterType.SourceSet) or (FilterType.Dest, FilterType.DestSet)
            or (FilterType.Origin, FilterType.OriginSet) => static (a, b) => ((IntSet)b.Obj!).Contains(a.Int),
        (FilterType.Pair, FilterType.Clist) => static (a, b) => b.Clist.Contains(Community.FromRaw((uint)a.Int)),
        (FilterType.Lc, FilterType.LClist) => static (a, b) => b.LClist.Contains((LargeCommunity)a.Obj!),
        (FilterType.Path, FilterType.PathMask) => static (a, b) => ((PathMask)b.Obj!).Matches((AsPath)a.Obj!),
        (FilterType.Path, FilterType.Int) => static (a, b) => ((AsPath)a.Obj!).Contains((uint)b.Int),
        _ => null,
    };
}

/// <summary>BIRD's <c>patmatch</c>: <c>*</c> is any run of characters, <c>?</c> any one character.</summary>
internal static class ShellPattern
{
    public static bool Matches(string pattern, string text) => Matches(pattern.AsSpan(), text.AsSpan());

    private static bool Matches(ReadOnlySpan<char> p, ReadOnlySpan<char> t)
    {
        while (p.Length > 0)
        {
            if (p[0] == '*')
            {
                p = p[1..];
                if (p.Length == 0)
                    return true;
                for (var i = 0; i <= t.Length; i++)
                {
                    if (Matches(p, t[i..]))
                        return true;
                }
                return false;
            }
            if (t.Length == 0 || (p[0] != '?' && p[0] != t[0]))
                return false;
            p = p[1..];
            t = t[1..];
        }
        return t.Length == 0;
    }
}

/// <summary>One element of a prefix set: <c>P</c>, <c>P+</c>, <c>P-</c> or <c>P{lo,hi}</c>.</summary>
internal readonly record struct PrefixPattern(Prefix Prefix, int Low, int High)
{
    public override string ToString() => $"{Prefix}{{{Low},{High}}}";
}

/// <summary>
/// BIRD's prefix set: a prefix matches an element when its length is within [lo, hi] and it agrees
/// with the element's prefix on the first min(len, element len) bits.
/// </summary>
internal sealed class PrefixSet(ImmutableArray<PrefixPattern> patterns)
{
    public ImmutableArray<PrefixPattern> Patterns { get; } = patterns;

    public bool Matches(Prefix n)
    {
        foreach (var e in Patterns)
        {
            if (e.Prefix.IsV6 != n.IsV6 || n.Length < e.Low || n.Length > e.High)
                continue;
            var common = Math.Min(n.Length, e.Prefix.Length);
            if (new Prefix(n.Address, common) == new Prefix(e.Prefix.Address, common))
                return true;
        }
        return false;
    }
}

/// <summary>An int or enum set: values and inclusive ranges.</summary>
internal sealed class IntSet(ImmutableArray<(long Low, long High)> ranges)
{
    public bool Contains(long v)
    {
        foreach (var (lo, hi) in ranges)
        {
            if (v >= lo && v <= hi)
                return true;
        }
        return false;
    }
}

/// <summary>An AS-path mask <c>[= 65000 * ? =]</c>: <c>*</c> any run of ASes, <c>?</c> any one AS.</summary>
internal sealed class PathMask(ImmutableArray<long> items)
{
    public const long AnyRun = -1;
    public const long AnyOne = -2;

    public bool Matches(AsPath path)
    {
        var asns = new List<uint>();
        foreach (var s in path.Segments)
            asns.AddRange(s.Asns);
        return Matches(0, asns, 0);
    }

    private bool Matches(int m, List<uint> asns, int a)
    {
        while (m < items.Length)
        {
            var item = items[m];
            if (item == AnyRun)
            {
                for (var i = a; i <= asns.Count; i++)
                {
                    if (Matches(m + 1, asns, i))
                        return true;
                }
                return false;
            }
            if (a >= asns.Count || (item != AnyOne && asns[a] != item))
                return false;
            m++;
            a++;
        }
        return a == asns.Count;
    }
}
