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

    // Constants, not six strings made per protocol instance (a thousand configured neighbours).
    private const string StatesCategory = CategoryPrefix + "states";
    private const string RoutesCategory = CategoryPrefix + "routes";
    private const string FiltersCategory = CategoryPrefix + "filters";
    private const string InterfacesCategory = CategoryPrefix + "interfaces";
    private const string EventsCategory = CategoryPrefix + "events";
    private const string PacketsCategory = CategoryPrefix + "packets";

    /// <summary>A trace that writes nothing (tests, tools).</summary>
    public static readonly ProtocolTrace None = new(NullLoggerFactory.Instance);

    public ProtocolTrace(ILoggerFactory loggers)
    {
        States = loggers.CreateLogger(StatesCategory);
        Routes = loggers.CreateLogger(RoutesCategory);
        Filters = loggers.CreateLogger(FiltersCategory);
        Interfaces = loggers.CreateLogger(InterfacesCategory);
        Events = loggers.CreateLogger(EventsCategory);
        Packets = loggers.CreateLogger(PacketsCategory);
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
