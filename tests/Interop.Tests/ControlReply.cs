namespace Calico.Bgp.Interop.Tests;

/// <summary>Splits what a control socket sent into the text each reply shows, as birdc prints it.</summary>
internal static class ControlReply
{
    /// <summary>
    /// Element 0 is the banner, then one string per command: each line without its
    /// <c>NNNN-</c> / <c>NNNN </c> code or the single space that continues a code's lines.
    /// </summary>
    public static IReadOnlyList<string> Split(string raw)
    {
        var replies = new List<string>();
        var current = new System.Text.StringBuilder();
        foreach (var line in raw.Split('\n'))
        {
            if (line.Length >= 5 && char.IsAsciiDigit(line[0]) && line[4] is '-' or ' ')
            {
                current.Append(line.AsSpan(5)).Append('\n');
                if (line[4] == ' ')
                {
                    replies.Add(current.ToString());
                    current.Clear();
                }
            }
            else if (line.StartsWith(' '))
            {
                current.Append(line.AsSpan(1)).Append('\n');
            }
        }
        if (current.Length > 0)
            replies.Add(current.ToString());
        return replies;
    }
}
