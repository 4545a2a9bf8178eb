using System.Text;
using Calico.Bgp.Daemon.Control;

namespace Calico.Bgp.Daemon.Tests.Control;

/// <summary>Reads the captured BIRD replies and runs commands against a backend without a socket.</summary>
internal static class Transcript
{
    public static string Directory { get; } = "/work/shared/bird-cli-transcripts";

    /// <summary>The raw file without its banner line (the replies only).</summary>
    public static string Replies(string file)
    {
        var text = File.ReadAllText(Path.Combine(Directory, file), Encoding.UTF8);
        return text[(text.IndexOf('\n') + 1)..];
    }

    public static string Run(IControlBackend backend, TimeProvider time, string line, SessionState? session = null)
    {
        var reply = new ReplyWriter();
        var ctx = new CommandContext(backend, reply, session ?? new SessionState(), time, () => ValueTask.CompletedTask, CancellationToken.None);
        CommandDispatcher.ExecuteAsync(line, ctx).AsTask().GetAwaiter().GetResult();
        return reply.Text;
    }

    /// <summary>Reply lines as (code, text, final), with continuation lines given the code they continue.</summary>
    public static List<(int Code, string Text, bool Final)> Parse(string raw)
    {
        var result = new List<(int, string, bool)>();
        var code = -1;
        foreach (var line in raw.Split('\n', StringSplitOptions.None).SkipLast(1))
        {
            if (line.StartsWith(' '))
            {
                result.Add((code, line[1..], false));
                continue;
            }
            code = int.Parse(line[..4], System.Globalization.CultureInfo.InvariantCulture);
            result.Add((code, line[5..], line[4] == ' '));
        }
        return result;
    }

    /// <summary>
    /// Routes grouped with their detail lines, sorted: BIRD lists networks in hash order, we sort
    /// them, so route replies are compared as sets of groups (and the framing is checked apart).
    /// </summary>
    public static List<string> RouteGroups(string raw)
    {
        var groups = new List<string>();
        foreach (var (code, text, final) in Parse(raw))
        {
            if (code == 1007 && !final)
                groups.Add(text);
            else if (!final)
                groups[^1] += "\n" + code + ":" + text;
            else
                groups.Add($"final {code} {text}");
        }
        return [.. groups.Order(StringComparer.Ordinal)];
    }
}
