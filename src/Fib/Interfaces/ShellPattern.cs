namespace Calico.Bgp.Fib.Interfaces;

/// <summary>BIRD's <c>patmatch</c>: <c>*</c> matches any run of characters, <c>?</c> any one character.</summary>
public static class ShellPattern
{
    public static bool Matches(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        // Iterative wildcard matching with one backtrack point for the last '*'.
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t]))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '*')
            p++;
        return p == pattern.Length;
    }
}

/// <summary>One item of BIRD's <c>interface -"cali*", "*";</c> list.</summary>
public readonly record struct InterfacePattern(bool Exclude, string ShellPattern)
{
    /// <summary>
    /// BIRD's <c>iface_patt_find</c>: the first pattern that matches decides; none matching means
    /// not included.
    /// </summary>
    public static bool Includes(IReadOnlyList<InterfacePattern> patterns, string name)
    {
        foreach (var p in patterns)
        {
            if (Interfaces.ShellPattern.Matches(p.ShellPattern, name))
                return !p.Exclude;
        }
        return false;
    }
}
