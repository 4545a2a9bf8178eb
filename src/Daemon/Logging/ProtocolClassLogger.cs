using Calico.Bgp.Daemon.Control;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Logging;

/// <summary>
/// One debug class's logger of one protocol (a <see cref="Rib.ProtocolTrace"/> logger): Debug is
/// enabled only while that class is on for the protocol, so the protocol's guard skips the message
/// entirely otherwise. What passes is written by the protocol's own category logger
/// (<see cref="ProtocolLoggerFactory.Logger"/>, made only when something passes), whose
/// <see cref="ProtocolDebugLogger"/> still decides by event id.
/// </summary>
internal sealed class ProtocolClassLogger(ProtocolLoggerFactory owner, string protocol, ProtocolDebug debugClass, ProtocolDebugSwitch debug) : ILogger
{
    // Whether the class is on, as of the switch's version: asked per route, so the switch's
    // dictionary is read again only after some flags changed. One word, written whole: the version
    // in the high half, the answer in bit 0; the version is never -1, so every logger starts "not read yet".
    private long _cached = NotRead;

    private const long NotRead = -1L << 32;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner.Logger.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => (logLevel >= LogLevel.Information || ClassOn()) && owner.Logger.IsEnabled(logLevel);

    private bool ClassOn()
    {
        var version = debug.Version;
        var cached = Volatile.Read(ref _cached);
        if ((int)(cached >> 32) == version)
            return (cached & 1) != 0;
        var on = (debug[protocol] & debugClass) != 0;
        Volatile.Write(ref _cached, ((long)version << 32) | (on ? 1L : 0L));
        return on;
    }

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        owner.Logger.Log(logLevel, eventId, state, exception, formatter);
}
