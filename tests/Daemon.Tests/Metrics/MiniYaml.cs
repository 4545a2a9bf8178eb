namespace Calico.Bgp.Daemon.Tests.Metrics;

/// <summary>
/// The YAML subset our manifests use, enough to check them without a YAML package: documents
/// split by <c>---</c>, block mappings and sequences by indentation, <c>- key: v</c> items, plain
/// and quoted scalars, flow sequences of scalars (<c>[a, b]</c>), <c>{}</c>, and literal/folded
/// block scalars (<c>|</c>, <c>&gt;-</c>). Anything else throws, so a manifest cannot drift
/// outside what the checks understand.
/// </summary>
internal static class MiniYaml
{
    public static List<object?> ParseDocuments(string text)
    {
        var docs = new List<object?>();
        var raw = text.Replace("\r", "", StringComparison.Ordinal).Split('\n');
        var current = new List<string>();
        foreach (var l in raw)
        {
            if (l.TrimEnd() == "---")
            {
                Flush();
                continue;
            }
            current.Add(l);
        }
        Flush();
        return docs;

        void Flush()
        {
            var i = 0;
            var lines = current.ToArray();
            SkipBlank(lines, ref i);
            if (i < lines.Length)
            {
                var value = ParseBlock(lines, ref i, Indent(lines[i]));
                SkipBlank(lines, ref i);
                if (i < lines.Length)
                    throw new FormatException($"unexpected line: {lines[i]}");
                docs.Add(value);
            }
            current = [];
        }
    }

    private static int Indent(string line) => line.Length - line.TrimStart(' ').Length;

    private static bool IsBlank(string line) => line.Trim().Length == 0 || line.TrimStart().StartsWith('#');

    private static void SkipBlank(string[] lines, ref int i)
    {
        while (i < lines.Length && IsBlank(lines[i]))
            i++;
    }

    private static object? ParseBlock(string[] lines, ref int i, int indent) =>
        IsItem(lines[i].TrimStart()) ? ParseSequence(lines, ref i, indent) : ParseMapping(lines, ref i, indent);

    private static bool IsItem(string text) => text == "-" || text.StartsWith("- ", StringComparison.Ordinal);

    private static Dictionary<string, object?> ParseMapping(string[] lines, ref int i, int indent)
    {
        var map = new Dictionary<string, object?>(StringComparer.Ordinal);
        while (true)
        {
            SkipBlank(lines, ref i);
            if (i >= lines.Length || Indent(lines[i]) < indent)
                return map;
            if (Indent(lines[i]) > indent)
                throw new FormatException($"bad indentation: {lines[i]}");
            var text = lines[i].Trim();
            if (IsItem(text))
                return map;
            var colon = KeyColon(text) ?? throw new FormatException($"expected key: value: {lines[i]}");
            var key = Unquote(text[..colon].Trim());
            var rest = StripComment(text[(colon + 1)..]).Trim();
            i++;
            map[key] = ParseValue(lines, ref i, indent, rest);
        }
    }

    private static object? ParseValue(string[] lines, ref int i, int indent, string rest)
    {
        if (rest is "|" or "|-" or ">" or ">-")
            return BlockScalar(lines, ref i, indent, folded: rest[0] == '>');
        if (rest.Length > 0)
            return Scalar(rest);
        SkipBlank(lines, ref i);
        if (i >= lines.Length)
            return null;
        var next = Indent(lines[i]);
        if (next > indent || (next == indent && IsItem(lines[i].TrimStart())))
            return ParseBlock(lines, ref i, next);
        return null;
    }

    private static List<object?> ParseSequence(string[] lines, ref int i, int indent)
    {
        var list = new List<object?>();
        while (true)
        {
            SkipBlank(lines, ref i);
            if (i >= lines.Length || Indent(lines[i]) != indent || !IsItem(lines[i].TrimStart()))
                return list;
            var item = lines[i].TrimStart()[1..].TrimStart();
            var itemIndent = indent + (lines[i].TrimStart().Length - item.Length);
            if (item.Length == 0 || item is "|" or "|-" or ">" or ">-")
            {
                i++;
                list.Add(ParseValue(lines, ref i, indent, item));
            }
            else if (KeyColon(item) is not null)
            {
                // "- key: value" opens a mapping whose keys sit at the item's column.
                lines[i] = new string(' ', itemIndent) + item;
                list.Add(ParseMapping(lines, ref i, itemIndent));
            }
            else
            {
                i++;
                list.Add(Scalar(StripComment(item).Trim()));
            }
        }
    }

    private static string BlockScalar(string[] lines, ref int i, int indent, bool folded)
    {
        var body = new List<string>();
        var start = -1;
        while (i < lines.Length && (lines[i].Trim().Length == 0 || Indent(lines[i]) > indent))
        {
            if (lines[i].Trim().Length > 0 && start < 0)
                start = Indent(lines[i]);
            body.Add(lines[i].Trim().Length == 0 ? "" : lines[i][start..]);
            i++;
        }
        while (body.Count > 0 && body[^1].Length == 0)
            body.RemoveAt(body.Count - 1);
        return folded ? string.Join(' ', body) : string.Join('\n', body) + "\n";
    }

    private static object? Scalar(string text)
    {
        if (text == "{}")
            return new Dictionary<string, object?>();
        if (text.StartsWith('[') && text.EndsWith(']'))
        {
            var inner = text[1..^1].Trim();
            return inner.Length == 0 ? new List<object?>() : inner.Split(',').Select(s => (object?)Unquote(s.Trim())).ToList();
        }
        if (text.StartsWith('{'))
            throw new FormatException($"flow mappings are not supported: {text}");
        return Unquote(text);
    }

    private static string Unquote(string s) =>
        s.Length >= 2 && (s[0] == '"' && s[^1] == '"' || s[0] == '\'' && s[^1] == '\'') ? s[1..^1] : s;

    /// <summary>The colon ending a mapping key (followed by a space or the end), outside quotes; null when none.</summary>
    private static int? KeyColon(string text)
    {
        if (text.StartsWith('"') || text.StartsWith('\'') || text.StartsWith('['))
        {
            var close = text.IndexOf(text[0] == '[' ? ']' : text[0], 1);
            return close > 0 && close + 1 < text.Length && text[close + 1] == ':' ? close + 1 : null;
        }
        for (var c = 0; c < text.Length; c++)
        {
            if (text[c] == ':' && (c + 1 == text.Length || text[c + 1] == ' '))
                return c;
            if (text[c] == ' ' && c + 1 < text.Length && text[c + 1] == '#')
                return null;
        }
        return null;
    }

    private static string StripComment(string text)
    {
        var quote = '\0';
        for (var c = 0; c < text.Length; c++)
        {
            if (quote != '\0')
            {
                if (text[c] == quote)
                    quote = '\0';
            }
            else if (text[c] is '"' or '\'')
                quote = text[c];
            else if (text[c] == '#' && (c == 0 || text[c - 1] == ' '))
                return text[..c];
        }
        return text;
    }

    /// <summary>Follows a path of keys and sequence indexes (<c>spec.template.spec.containers.0.name</c>).</summary>
    public static object? At(object? node, string path)
    {
        foreach (var part in path.Split('.'))
        {
            node = node switch
            {
                Dictionary<string, object?> map => map.GetValueOrDefault(part),
                List<object?> list when int.TryParse(part, out var n) && n < list.Count => list[n],
                _ => null,
            };
        }
        return node;
    }

    public static string Str(object? node, string path) =>
        At(node, path) as string ?? throw new KeyNotFoundException($"{path} is missing or not a scalar");

    public static List<object?> Seq(object? node, string path) =>
        At(node, path) as List<object?> ?? throw new KeyNotFoundException($"{path} is missing or not a sequence");
}
