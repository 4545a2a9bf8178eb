using System.Text.RegularExpressions;

namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// The confd golden configs (../shared/calico-bird-configs) and what a run of each must show,
/// read from the text alone (an oracle independent of our parser): the protocols with BIRD's
/// names (<c>kernel1</c>, <c>device1</c>… for unnamed ones) and the addresses the sessions bind.
/// </summary>
internal static partial class CorpusCases
{
    public static string Root { get; } = Path.Combine(LabTools.Shared, "calico-bird-configs");

    /// <summary>Every main file, relative to <see cref="Root"/>.</summary>
    public static IReadOnlyList<string> MainFiles() =>
        [.. Directory.EnumerateFiles(Root, "bird*.cfg", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) is "bird.cfg" or "bird6.cfg")
            .Select(f => Path.GetRelativePath(Root, f))
            .Order(StringComparer.Ordinal)];

    /// <summary>bird6.cfg is run by a process named bird6 (BIRD 1.x is single-family; our daemon picks IPv6 from its name).</summary>
    public static bool IsIpv6(string relative) => Path.GetFileName(relative) == "bird6.cfg";

    /// <summary>One configured protocol as <c>show protocols</c> lists it.</summary>
    public sealed record Expected(string Name, string Type);

    [GeneratedRegex(@"^\s*include\s+""([^""]+)""\s*;", RegexOptions.Multiline)]
    private static partial Regex Include();

    [GeneratedRegex(@"^\s*protocol\s+(\w+)(?:\s+(?!from\b)('[^']+'|\w+))?(?:\s+from\s+\w+)?\s*\{", RegexOptions.Multiline)]
    private static partial Regex ProtocolHeader();

    [GeneratedRegex(@"^\s*(?:source\s+address|listen\s+bgp\s+address)\s+([0-9A-Fa-f:.]+)", RegexOptions.Multiline)]
    private static partial Regex BoundAddress();

    private static readonly Dictionary<string, string> TypeNames = new(StringComparer.Ordinal)
    {
        ["bgp"] = "BGP",
        ["kernel"] = "Kernel",
        ["device"] = "Device",
        ["direct"] = "Direct",
        ["static"] = "Static",
    };

    /// <summary>The text of a file with its includes inlined where they stand (relative to the including file).</summary>
    private static string Expand(string path)
    {
        var text = File.ReadAllText(path);
        var withoutComments = string.Join('\n', text.Split('\n').Select(l => l.Split('#')[0]));
        return Include().Replace(withoutComments, m => Expand(Path.Combine(Path.GetDirectoryName(path)!, m.Groups[1].Value)));
    }

    /// <summary>The protocols of a main file in config order, unnamed ones named as BIRD does (type + running number).</summary>
    public static IReadOnlyList<Expected> Protocols(string relative)
    {
        var counters = new Dictionary<string, int>(StringComparer.Ordinal);
        var list = new List<Expected>();
        foreach (Match m in ProtocolHeader().Matches(Expand(Path.Combine(Root, relative))))
        {
            var type = m.Groups[1].Value;
            var name = m.Groups[2].Success ? m.Groups[2].Value.Trim('\'') : null;
            if (name is null)
            {
                counters[type] = counters.GetValueOrDefault(type) + 1;
                name = type + counters[type];
            }
            list.Add(new Expected(name, TypeNames[type]));
        }
        return list;
    }

    /// <summary>The local addresses the config binds (<c>source address</c>, <c>listen bgp address</c>).</summary>
    public static IReadOnlyList<string> BoundAddresses(string relative) =>
        [.. BoundAddress().Matches(Expand(Path.Combine(Root, relative))).Select(m => m.Groups[1].Value).Distinct(StringComparer.Ordinal)];
}
