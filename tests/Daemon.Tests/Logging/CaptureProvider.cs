using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Tests.Logging;

/// <summary>A logger provider that keeps every message written through it.</summary>
internal sealed class CaptureProvider : ILoggerProvider
{
    public List<(string Category, LogLevel Level, EventId EventId, string Message)> Lines { get; } = [];

    public IEnumerable<string> Messages
    {
        get
        {
            lock (Lines)
                return [.. Lines.Select(l => l.Message)];
        }
    }

    /// <summary>The categories a logger was made for, in order.</summary>
    public List<string> Created { get; } = [];

    public ILogger CreateLogger(string categoryName)
    {
        lock (Created)
            Created.Add(categoryName);
        return new Capture(this, categoryName);
    }

    public void Dispose()
    {
    }

    private sealed class Capture(CaptureProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (owner.Lines)
                owner.Lines.Add((category, logLevel, eventId, formatter(state, exception)));
        }
    }
}
