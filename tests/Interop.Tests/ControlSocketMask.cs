using System.Text.RegularExpressions;

namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// Makes two replies comparable: masks what differs from run to run (times, timers, interface
/// indexes, the version, the lab's paths, a peer's connect cycle) and puts <c>show route</c> rows in
/// one order (BIRD lists networks in hash order). Framing, codes, padding and wording stay.
/// </summary>
public static partial class ControlSocketMask
{
    public static string Apply(string reply, string command, string labDir)
    {
        var text = reply.Replace(labDir, "<lab>", StringComparison.Ordinal);
        text = ReadyBanner().Replace(text, "BIRD <version> ready.");
        text = VersionLine().Replace(text, "${code}BIRD <version>");
        text = DateTime().Replace(text, "<datetime>");
        text = Date().Replace(text, "<date>");
        text = Time().Replace(text, "<time>");
        text = Timer().Replace(text, "${label}<n>/");
        text = WaitTimer().Replace(text, "Wait timer is <n>/");
        text = InterfaceIndex().Replace(text, "index=<n>");
        text = CyclingInfo().Replace(text, "<cycling>      Socket:");
        text = CyclingState().Replace(text, "${label}<cycling>");
        // Only the refused peer has a connect delay, and only in part of its retry cycle: BIRD 1.6
        // and ours are read at different moments of theirs, so the line's presence is phase, not
        // format (SessionCountersTests checks the timer in the Active state).
        text = ConnectDelayLine().Replace(text, "");
        // The counters of "Route change stats" are compared apart (see KnownDifferences.Stats).
        text = StatsRow().Replace(text, m => m.Groups["label"].Value + Digits().Replace(m.Groups["rest"].Value, "n"));
        return command.StartsWith("show route", StringComparison.Ordinal) ? SortRouteGroups(text) : text;
    }

    /// <summary>
    /// Rows of a route listing regrouped in a fixed order: a group is a route line with its detail
    /// lines (TAB-led); raw lines are first given the code they continue, since the row that opens
    /// the reply carries it.
    /// </summary>
    private static string SortRouteGroups(string text)
    {
        var lines = text.TrimEnd('\n').Split('\n');
        var head = new List<string>();
        var groups = new List<string>();
        var tail = new List<string>();
        var code = "";
        foreach (var raw in lines)
        {
            var line = raw;
            if (line.Length >= 5 && char.IsAsciiDigit(line[0]) && line[4] is '-' or ' ')
            {
                code = line[..4];
                if (line[4] == ' ' || code == "0001")
                {
                    (groups.Count == 0 && head.Count == 0 ? head : tail).Add(line);
                    continue;
                }
                line = code + "|" + line[5..];
            }
            else if (line.StartsWith(' ') && code.Length > 0)
                line = code + "|" + line[1..];
            else if (line.StartsWith("BIRD ", StringComparison.Ordinal) && groups.Count == 0)
            {
                head.Add(line);
                continue;
            }
            var body = line.Contains('|') ? line[(line.IndexOf('|') + 1)..] : line;
            if (body.StartsWith('\t') && groups.Count > 0)
                groups[^1] += "\n" + line;
            else
                groups.Add(line);
        }
        groups.Sort(StringComparer.Ordinal);
        return string.Join("\n", head.Concat(groups).Concat(tail)) + "\n";
    }

    [GeneratedRegex(@"BIRD \S+ ready\.")]
    private static partial Regex ReadyBanner();

    [GeneratedRegex(@"^(?<code>1000-)?BIRD (?!<version>|memory)\S+$", RegexOptions.Multiline)]
    private static partial Regex VersionLine();

    [GeneratedRegex(@"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")]
    private static partial Regex DateTime();

    [GeneratedRegex(@"\b\d{4}-\d\d-\d\d\b")]
    private static partial Regex Date();

    [GeneratedRegex(@"\b\d\d:\d\d:\d\d\b")]
    private static partial Regex Time();

    [GeneratedRegex(@"^ +Connect delay: +\S+\n", RegexOptions.Multiline)]
    private static partial Regex ConnectDelayLine();

    [GeneratedRegex(@"(?<label>(Hold timer|Keepalive timer|Connect delay|Error wait|Restart timer): +)\d+/")]
    private static partial Regex Timer();

    [GeneratedRegex(@"Wait timer is \d+/")]
    private static partial Regex WaitTimer();

    [GeneratedRegex(@"index=\d+")]
    private static partial Regex InterfaceIndex();

    /// <summary>A refused peer cycles Active → Connect → Idle every few seconds, on either daemon.</summary>
    [GeneratedRegex(@"\b(Idle|Connect|Active) +Socket:")]
    private static partial Regex CyclingInfo();

    [GeneratedRegex(@"(?<label>BGP state: +)(Idle|Connect|Active)$", RegexOptions.Multiline)]
    private static partial Regex CyclingState();

    [GeneratedRegex(@"^(?<label>.*(Import|Export) (updates|withdraws): +)(?<rest>.*)$", RegexOptions.Multiline)]
    private static partial Regex StatsRow();

    [GeneratedRegex(@"\d+")]
    private static partial Regex Digits();
}
