using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// What a running corpus config must show beyond its protocol list, read from the text alone:
/// which BGP sessions wait passively, and the static routes each static protocol declares.
/// </summary>
internal static partial class CorpusCases
{
    /// <summary>One static route as <c>show route</c> lists it: prefix, kind (<c>blackhole</c>, <c>unreachable</c>, <c>prohibit</c> or <c>via</c>) and gateway.</summary>
    public sealed record StaticRoute(string Prefix, string Kind, string? Gateway);

    /// <summary>Everything a start of one main file must show.</summary>
    public sealed record RunExpectation(
        IReadOnlyList<Expected> Protocols,
        IReadOnlySet<string> PassiveBgp,
        IReadOnlyList<(string Protocol, StaticRoute Route)> StaticRoutes,
        IReadOnlyList<string> BoundAddresses);

    [GeneratedRegex(@"^\s*(protocol|template)\s+(\w+)(?:\s+(?!from\b)('[^']+'|\w+))?(?:\s+from\s+(\w+))?\s*\{", RegexOptions.Multiline)]
    private static partial Regex BlockHeader();

    [GeneratedRegex(@"\bpassive(?:\s+(?:on|yes|true))?\s*;")]
    private static partial Regex Passive();

    [GeneratedRegex(@"\broute\s+([0-9A-Fa-f:.]+/\d+)\s+(blackhole|unreachable|prohibit|via\s+([0-9A-Fa-f:.]+))\s*;")]
    private static partial Regex Route();

    /// <summary>The protocols, passive sessions, static routes and bound addresses of a main file.</summary>
    public static RunExpectation Expect(string relative)
    {
        var text = Expand(Path.Combine(Root, relative));
        var templates = new Dictionary<string, string>(StringComparer.Ordinal);
        var counters = new Dictionary<string, int>(StringComparer.Ordinal);
        var protocols = new List<Expected>();
        var passive = new HashSet<string>(StringComparer.Ordinal);
        var routes = new List<(string, StaticRoute)>();
        foreach (Match m in BlockHeader().Matches(text))
        {
            var body = Body(text, m.Index + m.Length);
            var type = m.Groups[2].Value;
            var name = m.Groups[3].Success ? m.Groups[3].Value.Trim('\'') : null;
            // A template's options come before the protocol's own.
            if (m.Groups[4].Success)
                body = templates[m.Groups[4].Value] + "\n" + body;
            if (m.Groups[1].Value == "template")
            {
                templates[name!] = body;
                continue;
            }
            if (name is null)
            {
                counters[type] = counters.GetValueOrDefault(type) + 1;
                name = type + counters[type];
            }
            protocols.Add(new Expected(name, TypeNames[type]));
            if (type == "bgp" && Passive().IsMatch(body))
                passive.Add(name);
            if (type == "static")
            {
                foreach (Match r in Route().Matches(body))
                {
                    var kind = r.Groups[3].Success ? "via" : r.Groups[2].Value;
                    routes.Add((name, new StaticRoute(r.Groups[1].Value, kind, r.Groups[3].Success ? r.Groups[3].Value : null)));
                }
            }
        }
        return new RunExpectation(protocols, passive, routes, BoundAddresses(relative));
    }

    /// <summary>A main file with its includes inlined and comments dropped.</summary>
    public static string ExpandedText(string relative) => Expand(Path.Combine(Root, relative));

    /// <summary>The text between the brace just before <paramref name="from"/> and its match.</summary>
    private static string Body(string text, int from)
    {
        var depth = 1;
        for (var i = from; i < text.Length; i++)
        {
            if (text[i] == '{')
                depth++;
            else if (text[i] == '}' && --depth == 0)
                return text[from..i];
        }
        throw new InvalidDataException($"unterminated block at offset {from}");
    }

    /// <summary>
    /// The main files grouped by what a daemon reads: the program (<c>bird</c> or <c>bird6</c>) and the
    /// main file with its includes inlined, comments and blank lines dropped and runs of white space
    /// made one (release snapshots and follow-up steps repeat many cases). Each group's first file,
    /// in path order, stands for it.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<string>> DistinctConfigs() =>
        [.. MainFiles()
            .GroupBy(f => (IsIpv6(f), ContentKey(f)))
            .Select(g => (IReadOnlyList<string>)[.. g])];

    private static string ContentKey(string relative)
    {
        var text = string.Join(' ', Expand(Path.Combine(Root, relative)).Split((char[])[' ', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries));
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }
}
