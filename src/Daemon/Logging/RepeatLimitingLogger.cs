using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Logging;

/// <summary>A logger that asks the <see cref="RepeatLimiter"/> before passing a message on.</summary>
internal sealed class RepeatLimitingLogger(ILogger inner, string category, RepeatLimiter limiter) : ILogger
{
    private const string OriginalFormat = "{OriginalFormat}";

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!inner.IsEnabled(logLevel))
            return;
        // Critical messages always pass: they are rare and each one matters.
        if (logLevel != LogLevel.Critical)
        {
            // A structured message is counted by its template and formatted here only if held back;
            // a plain one is its own key.
            var template = Template(state) ?? formatter(state, exception);
            if (!limiter.Admit(category, template, logLevel, eventId, state, exception, formatter, inner))
                return;
        }
        inner.Log(logLevel, eventId, state, exception, formatter);
    }

    /// <summary>The message template of a structured message (<c>LogInformation("{Peer} down", …)</c>), so different peers' values count as one message.</summary>
    private static string? Template<TState>(TState state)
    {
        if (state is IReadOnlyList<KeyValuePair<string, object?>> values)
        {
            for (var i = values.Count - 1; i >= 0; i--)
            {
                if (values[i].Key == OriginalFormat)
                    return values[i].Value as string;
            }
        }
        return null;
    }
}
