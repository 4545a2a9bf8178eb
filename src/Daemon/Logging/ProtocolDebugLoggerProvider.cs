using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Logging;

/// <summary>
/// Wraps a logger provider so the loggers of protocol categories (<see cref="ProtocolLogEvents.Category"/>)
/// honour BIRD's per-protocol debug flags; other categories are passed through untouched.
/// </summary>
public sealed class ProtocolDebugLoggerProvider(ILoggerProvider inner, ProtocolDebugSwitch debug) : ILoggerProvider, ISupportExternalScope
{
    public ILogger CreateLogger(string categoryName)
    {
        var logger = inner.CreateLogger(categoryName);
        return ProtocolDebugSwitch.ProtocolOf(categoryName) is { } protocol ? new ProtocolDebugLogger(logger, protocol, debug) : logger;
    }

    public void SetScopeProvider(IExternalScopeProvider scopeProvider)
    {
        if (inner is ISupportExternalScope scoped)
            scoped.SetScopeProvider(scopeProvider);
    }

    public void Dispose() => inner.Dispose();
}
