using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Logging;

/// <summary>
/// The logger factory one protocol instance is given: whatever category the protocol asks for, its
/// messages go under <c>Calico.Bgp.Protocol.&lt;name&gt;</c>, so the instance's debug flags (and a
/// reader of the log) find all of them under one name, as BIRD prefixes each line with the protocol.
/// </summary>
internal sealed class ProtocolLoggerFactory(ILoggerFactory inner, string protocol) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => inner.CreateLogger(ProtocolLogEvents.Category(protocol));

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    // The daemon's factory outlives every protocol; it is not this wrapper's to dispose.
    public void Dispose()
    {
    }
}
