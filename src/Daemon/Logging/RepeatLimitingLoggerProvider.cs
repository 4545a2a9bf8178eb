using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Logging;

/// <summary>
/// Wraps a logger provider (the console one) so repeated messages are summarised instead of
/// flooding the log (see <see cref="RepeatLimiter"/>). A timer writes the summaries of windows
/// that ended while their message went quiet.
/// </summary>
public sealed class RepeatLimitingLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private readonly ILoggerProvider _inner;
    private readonly RepeatLimiter _limiter;
    private readonly ITimer _timer;

    public RepeatLimitingLoggerProvider(ILoggerProvider inner, RepeatLimitOptions options, TimeProvider time)
    {
        _inner = inner;
        _limiter = new RepeatLimiter(options, time);
        _timer = time.CreateTimer(_ => _limiter.Flush(), null, options.Interval, options.Interval);
    }

    public ILogger CreateLogger(string categoryName) =>
        new RepeatLimitingLogger(_inner.CreateLogger(categoryName), categoryName, _limiter);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider)
    {
        if (_inner is ISupportExternalScope scoped)
            scoped.SetScopeProvider(scopeProvider);
    }

    /// <summary>Writes what is still held back, then disposes the wrapped provider.</summary>
    public void Dispose()
    {
        _timer.Dispose();
        _limiter.Flush(all: true);
        _inner.Dispose();
    }

    /// <summary>For tests: writes the summaries of ended windows now.</summary>
    internal void Flush() => _limiter.Flush();
}
