using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Logging;

/// <summary>A protocol's logger: asks the <see cref="ProtocolDebugSwitch"/> before passing a Debug message on.</summary>
internal sealed class ProtocolDebugLogger(ILogger inner, string protocol, ProtocolDebugSwitch debug) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

    // Lets a protocol skip building a Debug message nobody will read.
    public bool IsEnabled(LogLevel logLevel) =>
        (logLevel >= LogLevel.Information || debug.AnyDebug(protocol)) && inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (debug.Admits(protocol, logLevel, eventId))
            inner.Log(logLevel, eventId, state, exception, formatter);
    }
}
