using System.Buffers;
using System.Text;

namespace Calico.Bgp.Daemon.Control;

/// <summary>
/// Writes reply lines with BIRD's framing (<c>cli_printf</c>): a non-final line is <c>DDDD-text</c>,
/// or <c>␠text</c> when its code equals the previous line's; the final line is <c>DDDD␠text</c>.
/// </summary>
/// <remarks>
/// BIRD 1.6 keeps the previous code across replies, so the first line of a reply can lose its code
/// when the previous reply ended with the same one; BIRD 2 resets it at each final line. We follow
/// BIRD 2 (PROTOCOL.md §2): every reply starts with a coded line, which every parser accepts.
/// Output lines are capped at 512 bytes as BIRD caps them, so a pathological attribute cannot make a
/// line no client buffer expects.
/// </remarks>
internal sealed class ReplyWriter
{
    /// <summary>BIRD's <c>CLI_MSG_SIZE</c>-derived cap on one output line.</summary>
    public const int MaxLineBytes = 512;

    /// <summary>Bytes buffered before a command should flush to the socket.</summary>
    public const int FlushThreshold = 32 * 1024;

    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private int _lastCode = -1;

    /// <summary>Code of the last final line written (for tests and logging).</summary>
    public int LastFinalCode { get; private set; } = -1;

    /// <summary>Whether a final line has been written since <see cref="BeginReply"/>.</summary>
    public bool Finished { get; private set; }

    public int BufferedBytes => _buffer.WrittenCount;

    public bool ShouldFlush => _buffer.WrittenCount >= FlushThreshold;

    public ReadOnlyMemory<byte> Buffered => _buffer.WrittenMemory;

    public void BeginReply() => Finished = false;

    /// <summary>A line that more lines follow.</summary>
    public void Line(int code, string text)
    {
        if (code == _lastCode)
            Write(" ", text);
        else
            Write($"{code:D4}-", text);
        _lastCode = code;
    }

    /// <summary>The last line of a reply.</summary>
    public void Final(int code, string text)
    {
        Write($"{code:D4} ", text);
        _lastCode = -1;
        LastFinalCode = code;
        Finished = true;
    }

    /// <summary>An asynchronous log line (<c>echo</c>): <c>+text</c>, outside any reply's framing.</summary>
    public void Async(string text) => Write("+", text);

    public void Clear() => _buffer.Clear();

    /// <summary>Everything buffered, as text (tests).</summary>
    public string Text => Encoding.UTF8.GetString(_buffer.WrittenSpan);

    private void Write(string prefix, string text)
    {
        var max = MaxLineBytes - prefix.Length - 1;
        // A newline inside a value would start a line with no framing; BIRD never sends one.
        if (text.Contains('\n') || text.Contains('\r'))
            text = text.Replace('\n', ' ').Replace('\r', ' ');
        if (Encoding.UTF8.GetByteCount(text) > max)
            text = Truncate(text, max);
        var span = _buffer.GetSpan(prefix.Length + Encoding.UTF8.GetMaxByteCount(text.Length) + 1);
        var n = Encoding.ASCII.GetBytes(prefix, span);
        n += Encoding.UTF8.GetBytes(text, span[n..]);
        span[n++] = (byte)'\n';
        _buffer.Advance(n);
    }

    private static string Truncate(string text, int maxBytes)
    {
        var chars = Math.Min(text.Length, maxBytes);
        while (chars > 0 && Encoding.UTF8.GetByteCount(text.AsSpan(0, chars)) > maxBytes)
            chars--;
        return text[..chars];
    }
}
