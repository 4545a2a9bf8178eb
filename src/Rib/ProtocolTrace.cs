using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Rib;

/// <summary>
/// One logger per BIRD debug class of a protocol instance. Each is asked for by its own category
/// (<see cref="CategoryOf"/>), so a logger factory that knows the protocol's <c>debug</c> flags can
/// make <see cref="ILogger.IsEnabled"/> false for a class switched off: a call site guarded by
/// <c>Routes.IsEnabled(LogLevel.Debug)</c> then costs one check per route and builds nothing.
/// Any other factory gives plain loggers of those categories.
/// </summary>
public sealed class ProtocolTrace
{
    /// <summary>The category prefix of the class loggers; the class's name follows (<c>states</c>, <c>routes</c>, …).</summary>
    public const string CategoryPrefix = "Calico.Bgp.Debug.";

    /// <summary>A trace that writes nothing (tests, tools).</summary>
    public static readonly ProtocolTrace None = new(NullLoggerFactory.Instance);

    public ProtocolTrace(ILoggerFactory loggers)
    {
        States = loggers.CreateLogger(CategoryOf("states"));
        Routes = loggers.CreateLogger(CategoryOf("routes"));
        Filters = loggers.CreateLogger(CategoryOf("filters"));
        Interfaces = loggers.CreateLogger(CategoryOf("interfaces"));
        Events = loggers.CreateLogger(CategoryOf("events"));
        Packets = loggers.CreateLogger(CategoryOf("packets"));
    }

    /// <summary>The category of one class's logger (<paramref name="debugClass"/> as the config spells it).</summary>
    public static string CategoryOf(string debugClass) => CategoryPrefix + debugClass;

    public ILogger States { get; }
    public ILogger Routes { get; }
    public ILogger Filters { get; }
    public ILogger Interfaces { get; }
    public ILogger Events { get; }
    public ILogger Packets { get; }
}
