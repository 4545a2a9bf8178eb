using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Logging;

/// <summary>
/// Counts messages per (category, message template) in fixed windows. The first
/// <see cref="RepeatLimitOptions.Burst"/> of a window pass; the rest are held back and, when the
/// window ends, reported by one line "… repeated N times". A peer flapping every second or a
/// kernel refusing the same route on each scan then costs a line per window, not a line per event.
/// </summary>
internal sealed class RepeatLimiter(RepeatLimitOptions options, TimeProvider time)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Category, string Template), Window> _windows = [];

    /// <summary>
    /// Whether the message may be written now. Before answering, a summary of the key's previous
    /// window is written through <paramref name="logger"/> when that window held messages back.
    /// The message is formatted only when it is held back (the summary quotes the last one): one
    /// that passes is formatted once, by the provider that writes it.
    /// </summary>
    public bool Admit<TState>(string category, string template, LogLevel level, EventId eventId, TState state, Exception? exception,
        Func<TState, Exception?, string> formatter, ILogger logger)
    {
        Summary? summary = null;
        bool admit;
        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (!_windows.TryGetValue((category, template), out var w))
                _windows[(category, template)] = w = new Window(now, logger);
            else if (now - w.Start >= options.Interval)
            {
                summary = w.TakeSummary(now);
                w.Restart(now);
            }
            w.Count++;
            admit = w.Count <= options.Burst;
            if (!admit)
                w.Hold(level, eventId, formatter(state, exception));
        }
        summary?.Write();
        return admit;
    }

    /// <summary>Writes the summaries of windows that have ended and forgets idle keys (called by a timer and on dispose).</summary>
    public void Flush(bool all = false)
    {
        var now = time.GetUtcNow();
        List<Summary> due = [];
        lock (_lock)
        {
            List<(string, string)> idle = [];
            foreach (var (key, w) in _windows)
            {
                if (!all && now - w.Start < options.Interval)
                    continue;
                if (w.TakeSummary(now) is { } s)
                    due.Add(s);
                idle.Add(key);
            }
            foreach (var key in idle)
                _windows.Remove(key);
        }
        foreach (var s in due)
            s.Write();
    }

    private sealed class Window(DateTimeOffset start, ILogger logger)
    {
        private int _held;
        private LogLevel _level;
        private EventId _eventId;
        private string _last = "";

        public DateTimeOffset Start { get; private set; } = start;
        public int Count { get; set; }

        public void Hold(LogLevel level, EventId eventId, string message)
        {
            _held++;
            _level = level;
            _eventId = eventId;
            _last = message;
        }

        public Summary? TakeSummary(DateTimeOffset now) =>
            _held == 0 ? null : new Summary(logger, _level, _eventId, _last, _held, now - Start);

        public void Restart(DateTimeOffset now)
        {
            Start = now;
            Count = 0;
            _held = 0;
        }
    }

    private sealed record Summary(ILogger Logger, LogLevel Level, EventId EventId, string LastMessage, int Held, TimeSpan Span)
    {
        public void Write() =>
            Logger.Log(Level, EventId, $"{LastMessage} … repeated {Held} times (held back over {Math.Round(Span.TotalSeconds)} s)", null, static (s, _) => s);
    }
}
