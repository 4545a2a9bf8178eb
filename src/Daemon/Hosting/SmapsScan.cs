using System.Globalization;
using System.Text;

namespace Calico.Bgp.Daemon.Hosting;

/// <summary>
/// Reads <c>/proc/PID/smaps</c> line by line, as bytes, for the mappings <see cref="ImageResidency"/> may
/// drop: private, not writable, of the executable or a shared library, with no anonymous page.
/// </summary>
/// <remarks>
/// The text has ~25 lines a mapping, and a daemon has a few hundred mappings (each thread's stack and
/// guard page among them): read as strings and split into fields it was 620 KB of garbage a reading,
/// and the daemon reads it at start-up's peak and after each collection it asks for. Here a line is a
/// span of the reader's buffer; only a mapping that may be dropped makes an object (its path).
/// </remarks>
internal sealed class SmapsScan(string? executable)
{
    private readonly byte[] _executable = executable is null ? [] : Encoding.UTF8.GetBytes(executable);

    // The last mapping whose header made it a candidate, until its "Anonymous:" line decides.
    private ImageResidency.Mapping? _current;

    /// <summary>The mappings found so far, in the text's order.</summary>
    public List<ImageResidency.Mapping> Found { get; } = [];

    /// <summary>Reads all of <paramref name="smaps"/> through <paramref name="buffer"/>, a line at a time.</summary>
    /// <remarks>
    /// A line longer than the buffer is passed over; the mapping it would have started is not a
    /// candidate (a path near PATH_MAX, which no library the loader maps has).
    /// </remarks>
    public void Read(Stream smaps, Span<byte> buffer)
    {
        var filled = 0;
        var skipping = false;
        while (true)
        {
            var read = smaps.Read(buffer[filled..]);
            if (read == 0)
            {
                if (filled > 0 && !skipping)
                    Line(buffer[..filled]);
                return;
            }
            filled += read;
            var start = 0;
            while (buffer[start..filled].IndexOf((byte)'\n') is var newline and >= 0)
            {
                if (skipping)
                    skipping = false;
                else
                    Line(buffer.Slice(start, newline));
                start += newline + 1;
            }
            if (start == 0 && filled == buffer.Length)
            {
                _current = null;
                skipping = true;
                filled = 0;
                continue;
            }
            buffer[start..filled].CopyTo(buffer);
            filled -= start;
        }
    }

    /// <summary>Takes one line of the text (without its newline).</summary>
    public void Line(ReadOnlySpan<byte> line)
    {
        var rest = line;
        var first = NextField(ref rest);
        // A field line ("Name: value"): only a candidate's "Anonymous:" matters. A page of its own
        // (copied on write, as a relocated read-only segment's are) would be lost: the file's would come back.
        if (first.Length > 0 && first[^1] == (byte)':')
        {
            if (_current is { } m && first.SequenceEqual("Anonymous:"u8))
            {
                if (KiloBytes(rest) == 0)
                    Found.Add(m);
                _current = null;
            }
            return;
        }
        // A mapping's header: "start-end perms offset dev inode [path]".
        _current = null;
        var perms = NextField(ref rest);
        NextField(ref rest);
        NextField(ref rest);
        if (NextField(ref rest).IsEmpty)
            return;
        var path = rest.Trim((byte)' ');
        var dash = first.IndexOf((byte)'-');
        if (dash <= 0
            || !ulong.TryParse(first[..dash], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var start)
            || !ulong.TryParse(first[(dash + 1)..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var end))
            return;
        if (perms is [(byte)'r', (byte)'-', _, (byte)'p'] && IsCode(path))
            _current = new ImageResidency.Mapping(start, end, Encoding.UTF8.GetString(path));
    }

    /// <summary>The executable, or a shared library (as the loader maps them: a path with <c>.so</c>, not deleted).</summary>
    private bool IsCode(ReadOnlySpan<byte> path) =>
        path is [(byte)'/', ..] && !path.EndsWith(" (deleted)"u8)
        && (path.SequenceEqual(_executable) || path.EndsWith(".so"u8) || path.IndexOf(".so."u8) >= 0);

    /// <summary>The next space-separated field of <paramref name="rest"/>, which moves past it; empty at the end.</summary>
    private static ReadOnlySpan<byte> NextField(ref ReadOnlySpan<byte> rest)
    {
        rest = rest.TrimStart((byte)' ');
        var space = rest.IndexOf((byte)' ');
        var field = space < 0 ? rest : rest[..space];
        rest = rest[field.Length..];
        return field;
    }

    /// <summary>A field's value in kB ("   4 kB"), or -1 when it is not a number.</summary>
    private static long KiloBytes(ReadOnlySpan<byte> value) =>
        long.TryParse(NextField(ref value), NumberStyles.None, CultureInfo.InvariantCulture, out var kb) ? kb : -1;
}
