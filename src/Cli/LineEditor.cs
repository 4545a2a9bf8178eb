using System.Text;

namespace Calico.Bgp.Cli;

/// <summary>
/// A small line editor for the interactive prompt on a terminal: left/right, backspace, home/end,
/// and up/down through the history of this session (readline's basics, without a native library).
/// </summary>
internal sealed class LineEditor(TextWriter output)
{
    private const int MaxHistory = 500;
    private readonly List<string> _history = [];

    public string? ReadLine(string prompt)
    {
        output.Write(prompt);
        output.Flush();
        var line = new StringBuilder();
        var cursor = 0;
        var historyIndex = _history.Count;
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            switch (key.Key)
            {
                case ConsoleKey.Enter:
                    output.WriteLine();
                    var text = line.ToString();
                    if (text.Trim().Length > 0 && (_history.Count == 0 || _history[^1] != text))
                    {
                        _history.Add(text);
                        if (_history.Count > MaxHistory)
                            _history.RemoveAt(0);
                    }
                    return text;
                case ConsoleKey.Backspace when cursor > 0:
                    line.Remove(--cursor, 1);
                    break;
                case ConsoleKey.Delete when cursor < line.Length:
                    line.Remove(cursor, 1);
                    break;
                case ConsoleKey.LeftArrow when cursor > 0:
                    cursor--;
                    break;
                case ConsoleKey.RightArrow when cursor < line.Length:
                    cursor++;
                    break;
                case ConsoleKey.Home:
                    cursor = 0;
                    break;
                case ConsoleKey.End:
                    cursor = line.Length;
                    break;
                case ConsoleKey.UpArrow when historyIndex > 0:
                    historyIndex--;
                    line.Clear().Append(_history[historyIndex]);
                    cursor = line.Length;
                    break;
                case ConsoleKey.DownArrow when historyIndex < _history.Count:
                    historyIndex++;
                    line.Clear().Append(historyIndex < _history.Count ? _history[historyIndex] : "");
                    cursor = line.Length;
                    break;
                case ConsoleKey.D when key.Modifiers.HasFlag(ConsoleModifiers.Control) && line.Length == 0:
                    return null;
                default:
                    if (key.KeyChar >= ' ' && !char.IsControl(key.KeyChar))
                        line.Insert(cursor++, key.KeyChar);
                    break;
            }
            Redraw(prompt, line, cursor);
        }
    }

    private void Redraw(string prompt, StringBuilder line, int cursor)
    {
        // Carriage return, prompt and text, clear to end of line, then put the cursor back.
        output.Write($"\r{prompt}{line}\u001b[K");
        var back = line.Length - cursor;
        if (back > 0)
            output.Write($"\u001b[{back}D");
        output.Flush();
    }
}
