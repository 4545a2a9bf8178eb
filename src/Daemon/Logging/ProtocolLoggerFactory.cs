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
/// <remarks>
/// The category's logger is made at the first message, not with the protocol: the logging stack
/// builds a logger per new category and provider (about 3.6 KiB per protocol, most of it garbage of
/// its filter rules), and a configured neighbour that never comes up, or a debug class that stays
/// off, never needs one (bench/RESULTS-perf.md, eighth round). All the protocol's loggers share it.
/// With <paramref name="categories"/> it is made from the providers under filter rules chosen once
/// for every protocol (<see cref="ProtocolCategoryLoggers"/>), not by the factory.
/// </remarks>
internal sealed class ProtocolLoggerFactory(ILoggerFactory inner, string protocol, ProtocolDebugSwitch? debug = null, ProtocolCategoryLoggers? categories = null) : ILoggerFactory
{
    private readonly string _category = ProtocolLogEvents.Category(protocol);
    private ILogger? _logger;

    /// <summary>The protocol's category logger, made on first use (two threads racing may each make one; either serves, the providers keeping one logger per category).</summary>
    internal ILogger Logger => _logger ??= categories?.Create(_category) ?? inner.CreateLogger(_category);

    public ILogger CreateLogger(string categoryName)
    {
        var cls = debug is null ? ProtocolDebug.None : ClassOf(categoryName);
        return cls != ProtocolDebug.None
            ? new ProtocolClassLogger(this, protocol, cls, debug!)
            : new DeferredLogger(this);
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

    /// <summary>The protocol's logger for a category that is not a debug class: the category logger, made when first asked.</summary>
    private sealed class DeferredLogger(ProtocolLoggerFactory owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner.Logger.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => owner.Logger.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Logger.Log(logLevel, eventId, state, exception, formatter);
    }
}
