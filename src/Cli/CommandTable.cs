namespace Calico.Bgp.Cli;

/// <summary>
/// The commands the daemon understands, as birdc's command tree (BIRD's generated
/// <c>client/commands.h</c>): used to expand abbreviations (<c>sh pro</c> → <c>show protocols</c>)
/// and for <c>?</c> help. The socket itself takes full keywords only.
/// </summary>
internal static class CommandTable
{
    internal sealed record Entry(string Command, string Args, string Help, bool IsRealCommand);

    public static IReadOnlyList<Entry> Entries { get; } =
    [
        new("show", "...", "Show status information", false),
        new("show status", "", "Show router status", true),
        new("show memory", "", "Show memory usage", true),
        new("show protocols", "[<protocol> | \"<pattern>\"]", "Show routing protocols", true),
        new("show protocols all", "[<protocol> | \"<pattern>\"]", "Show routing protocol details", true),
        new("show interfaces", "", "Show network interfaces", true),
        new("show interfaces summary", "", "Show summary of network interfaces", true),
        new("show route", "[<prefix>|for <prefix>|for <ip>] [table <t>] [filter <f>|where <cond>] [all] [primary] [filtered] [(export|preexport|noexport) <p>] [protocol <p>] [stats|count]", "Show routing table", true),
        new("show symbols", "[table|filter|function|protocol|template|<symbol>]", "Show all known symbolic names", true),
        new("configure", "[\"<file>\"] [timeout [<sec>]]", "Reload configuration", true),
        new("configure soft", "[\"<file>\"] [timeout [<sec>]]", "Reload configuration and ignore changes in filters", true),
        new("configure confirm", "", "Confirm last configuration change - deactivate undo timeout", true),
        new("configure undo", "", "Undo last configuration change", true),
        new("configure check", "[\"<file>\"]", "Parse configuration and check its validity", true),
        new("down", "", "Shut the daemon down", true),
        new("enable", "<protocol> | \"<pattern>\" | all", "Enable protocol", true),
        new("disable", "<protocol> | \"<pattern>\" | all [\"<message>\"]", "Disable protocol", true),
        new("restart", "<protocol> | \"<pattern>\" | all", "Restart protocol", true),
        new("reload", "<protocol> | \"<pattern>\" | all", "Reload protocol", true),
        new("reload in", "<protocol> | \"<pattern>\" | all", "Reload protocol (just imported routes)", true),
        new("reload out", "<protocol> | \"<pattern>\" | all", "Reload protocol (just exported routes)", true),
        new("debug", "<protocol> | \"<pattern>\" | all (all | off | { states | routes | filters | interfaces | events | packets })", "Control protocol debugging via BIRD logs", true),
        new("echo", "(all | off | { debug | trace | info | remote | warning | error | auth }) [<buffer-size>]", "Control echoing of log messages", true),
        new("restrict", "", "Restrict current CLI session to safe commands", true),
    ];

    private sealed class Node(string token)
    {
        public string Token { get; } = token;
        public List<Node> Children { get; } = [];
        public Entry? Command { get; set; }
        public Entry? Help { get; set; }
    }

    private static readonly Node Root = Build();

    private static Node Build()
    {
        var root = new Node("");
        foreach (var e in Entries)
        {
            var node = root;
            foreach (var word in e.Command.Split(' '))
            {
                var child = node.Children.FirstOrDefault(c => c.Token == word);
                if (child is null)
                {
                    child = new Node(word);
                    node.Children.Add(child);
                }
                node = child;
            }
            if (e.IsRealCommand)
                node.Command = e;
            else
                node.Help = e;
        }
        return root;
    }

    /// <summary>The outcome of <see cref="Expand"/>: the command to send, or the message birdc prints instead.</summary>
    internal readonly record struct Expansion(string? Command, IReadOnlyList<string> Messages);

    /// <summary>
    /// birdc's <c>cmd_expand</c>: each word selects the child it equals or uniquely abbreviates;
    /// the first word that matches nothing starts the arguments, passed on unchanged. A word that
    /// abbreviates several children is ambiguous; ending on a node that is no command is rejected.
    /// </summary>
    public static Expansion Expand(string line)
    {
        var node = Root;
        var i = 0;
        var argsStart = 0;
        while (i < line.Length)
        {
            if (char.IsWhiteSpace(line[i]))
            {
                i++;
                continue;
            }
            var start = i;
            while (i < line.Length && !char.IsWhiteSpace(line[i]))
                i++;
            var word = line[start..i];
            var exact = node.Children.FirstOrDefault(c => c.Token == word);
            if (exact is null)
            {
                var candidates = node.Children.Where(c => c.Token.Length > word.Length && c.Token.StartsWith(word, StringComparison.Ordinal)).ToList();
                if (candidates.Count > 1)
                {
                    var messages = new List<string> { "Ambiguous command, possible expansions are:" };
                    foreach (var c in candidates)
                        messages.AddRange(HelpLines(c));
                    return new Expansion(null, messages);
                }
                if (candidates.Count == 0)
                    break;
                exact = candidates[0];
            }
            node = exact;
            argsStart = i;
        }
        if (node.Command is null)
            return new Expansion(null, ["No such command. Press `?' for help."]);
        return new Expansion(node.Command.Command + line[argsStart..], []);
    }

    /// <summary>birdc's <c>?</c>: the commands under the words typed so far (all of them for an empty line).</summary>
    public static IReadOnlyList<string> Help(string prefix)
    {
        var words = prefix.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var lines = new List<string>();
        foreach (var e in Entries)
        {
            var cmdWords = e.Command.Split(' ');
            var matches = words.Length <= cmdWords.Length
                && words.Select((w, k) => cmdWords[k].StartsWith(w, StringComparison.Ordinal)).All(x => x);
            if (matches)
                lines.Add(Format(e));
        }
        return lines;
    }

    private static IEnumerable<string> HelpLines(Node n)
    {
        if (n.Help is { } h)
            yield return Format(h);
        if (n.Command is { } c)
            yield return Format(c);
    }

    private static string Format(Entry e) => $"{(e.Command + " " + e.Args).TrimEnd(),-45}  {e.Help}";
}
