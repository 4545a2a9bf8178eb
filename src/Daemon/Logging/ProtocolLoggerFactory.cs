using Calico.Bgp.Daemon.Control;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Logging;

/// <summary>
/// The logger factory one protocol instance is given: whatever category the protocol asks for, its
/// messages go under <c>Calico.Bgp.Protocol.&lt;name&gt;</c>, so the instance's debug flags (and a
/// reader of the log) find all of them under one name, as BIRD prefixes each line with the protocol.
/// With the <paramref name="debug"/> switch, the loggers of a <see cref="ProtocolTrace"/> (one per
/// debug class) report Debug as enabled only while their class is on.
/// </summary>
internal sealed class ProtocolLoggerFactory(ILoggerFactory inner, string protocol, ProtocolDebugSwitch? debug = null) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName)
    {
        var logger = inner.CreateLogger(ProtocolLogEvents.Category(protocol));
        return debug is not null && ClassOf(categoryName) is var cls && cls != ProtocolDebug.None
            ? new ProtocolClassLogger(logger, protocol, cls, debug)
            : logger;
    }

    /// <summary>The debug class a <see cref="ProtocolTrace"/> category stands for; None for other categories.</summary>
    internal static ProtocolDebug ClassOf(string category) =>
        !category.StartsWith(ProtocolTrace.CategoryPrefix, StringComparison.Ordinal) ? ProtocolDebug.None
        : category.AsSpan(ProtocolTrace.CategoryPrefix.Length) switch
        {
            "states" => ProtocolDebug.States,
            "routes" => ProtocolDebug.Routes,
            "filters" => ProtocolDebug.Filters,
            "interfaces" => ProtocolDebug.Interfaces,
            "events" => ProtocolDebug.Events,
            "packets" => ProtocolDebug.Packets,
            _ => ProtocolDebug.None,
        };

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    // The daemon's factory outlives every protocol; it is not this wrapper's to dispose.
    public void Dispose()
    {
    }
}
