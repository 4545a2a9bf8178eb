using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>Keeps the warnings logged, formatted, to check BIRD's wording and how often a line comes.</summary>
internal sealed class CapturingLoggers : ILoggerFactory
{
    private readonly ConcurrentQueue<string> _warnings = new();

    public IReadOnlyList<string> Warnings => [.. _warnings];

    public ILogger CreateLogger(string categoryName) => new Logger(_warnings);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Logger(ConcurrentQueue<string> warnings) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning)
                warnings.Enqueue(formatter(state, exception));
        }
    }
}
