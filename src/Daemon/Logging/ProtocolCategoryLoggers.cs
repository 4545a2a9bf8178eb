using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Calico.Bgp.Daemon.Logging;

/// <summary>
/// Makes the loggers of protocol categories (<c>Calico.Bgp.Protocol.&lt;name&gt;</c>) straight from
/// the logger providers, gated by one logger the daemon's factory made for the categories' common
/// name <c>Calico.Bgp.Protocol</c>, so the factory's filter rules are chosen once for all protocols.
/// </summary>
/// <remarks>
/// <see cref="LoggerFactory.CreateLogger"/> chooses the filter rules anew for every new category and
/// provider, by reflection over the provider's alias attribute: about 2.5 KB of garbage per
/// protocol, which a reflector with a thousand clients paid while its sessions came up, all of it
/// still in the young generation at the process's peak (bench/RESULTS-perf.md, twentieth round).
/// The rules the factory would choose for a protocol's category are those it chose for the gate as
/// long as no rule tells the two apart: none names a provider, carries a filter function or a
/// wildcard, or names a category under the prefix. Where one does, <see cref="Create"/> asks the
/// factory as before. The rules are read at each call, so a logger made after they change follows them.
/// </remarks>
public sealed class ProtocolCategoryLoggers
{
    private readonly ILoggerFactory _factory;
    private readonly ILoggerProvider[] _providers;
    private readonly IOptionsMonitor<LoggerFilterOptions> _rules;
    private readonly ILogger _gate;

    public ProtocolCategoryLoggers(ILoggerFactory factory, IEnumerable<ILoggerProvider> providers, IOptionsMonitor<LoggerFilterOptions> rules)
    {
        _factory = factory;
        _providers = [.. providers];
        _rules = rules;
        _gate = factory.CreateLogger(GateCategory);
    }

    /// <summary>The category whose filter rules the protocol categories share.</summary>
    internal static string GateCategory => ProtocolLogEvents.CategoryPrefix.TrimEnd('.');

    /// <summary>Whether <see cref="Create"/> builds loggers without the factory under the rules in force now.</summary>
    internal bool Shared => RulesAgree(_rules.CurrentValue);

    /// <summary>The logger of <paramref name="category"/>, one of the protocol categories.</summary>
    public ILogger Create(string category)
    {
        if (!category.StartsWith(ProtocolLogEvents.CategoryPrefix, StringComparison.Ordinal) || !Shared)
            return _factory.CreateLogger(category);
        var loggers = new ILogger[_providers.Length];
        for (var i = 0; i < loggers.Length; i++)
            loggers[i] = _providers[i].CreateLogger(category);
        return new GatedLogger(_gate, loggers);
    }

    /// <summary>Whether every rule applies alike to the gate's category and to each protocol category.</summary>
    internal static bool RulesAgree(LoggerFilterOptions options)
    {
        foreach (var rule in options.Rules)
        {
            if (rule.ProviderName is not null || rule.Filter is not null)
                return false;
            if (rule.CategoryName is { } c && (c.Contains('*') || c.StartsWith(ProtocolLogEvents.CategoryPrefix, StringComparison.OrdinalIgnoreCase)))
                return false;
        }
        return true;
    }

    /// <summary>
    /// A protocol category's logger: what the gate lets through goes to every provider's logger, as
    /// the factory's own logger does with a level all its providers share; scopes go through the
    /// gate to the factory's scope provider, which every provider reads.
    /// </summary>
    private sealed class GatedLogger(ILogger gate, ILogger[] loggers) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => gate.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel)
        {
            if (!gate.IsEnabled(logLevel))
                return false;
            foreach (var logger in loggers)
            {
                if (logger.IsEnabled(logLevel))
                    return true;
            }
            return false;
        }

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!gate.IsEnabled(logLevel))
                return;
            foreach (var logger in loggers)
                logger.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
