using Calico.Bgp.Daemon.Control;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Logging;

/// <summary>
/// One debug class's logger of one protocol (a <see cref="Rib.ProtocolTrace"/> logger): Debug is
/// enabled only while that class is on for the protocol, so the protocol's guard skips the message
/// entirely otherwise. What passes is written by <paramref name="inner"/>, the protocol's own
/// category, whose <see cref="ProtocolDebugLogger"/> still decides by event id.
/// </summary>
internal sealed class ProtocolClassLogger(ILogger inner, string protocol, ProtocolDebug debugClass, ProtocolDebugSwitch debug) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) =>
        (logLevel >= LogLevel.Information || (debug[protocol] & debugClass) != 0) && inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        inner.Log(logLevel, eventId, state, exception, formatter);
}
