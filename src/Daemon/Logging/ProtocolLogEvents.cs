using Calico.Bgp.Daemon.Control;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Logging;

/// <summary>
/// The event ids a protocol's Debug messages carry, one range per BIRD debug class (<c>D_STATES</c>,
/// <c>D_ROUTES</c>, …). <c>debug { … }</c> in the config or the <c>debug</c> command chooses the
/// classes written (see <see cref="ProtocolDebugSwitch"/>). The ranges are the contract: a protocol
/// that logs a route import at Debug with an id from 2000–2999 is covered by <c>debug { routes }</c>
/// without referring to this type. The ids the protocols use are <see cref="Rib.ProtocolEvents"/>.
/// </summary>
public static class ProtocolLogEvents
{
    /// <summary>The category prefix of protocol loggers: <c>Calico.Bgp.Protocol.&lt;name&gt;</c>.</summary>
    public const string CategoryPrefix = "Calico.Bgp.Protocol.";

    private const int RangeSize = 1000;

    /// <summary>States: protocol state (down/start/up/stop) and BGP FSM transitions.</summary>
    public static readonly EventId ProtocolStateChanged = Rib.ProtocolEvents.ProtocolStateChanged;
    public static readonly EventId BgpStateChanged = Rib.ProtocolEvents.BgpStateChanged;

    /// <summary>The logger category of the protocol instance called <paramref name="protocol"/>.</summary>
    public static string Category(string protocol) => CategoryPrefix + protocol;

    /// <summary>The debug class an event id falls in; <see cref="ProtocolDebug.None"/> outside the ranges.</summary>
    public static ProtocolDebug ClassOf(EventId id) => (id.Id / RangeSize) switch
    {
        1 => ProtocolDebug.States,
        2 => ProtocolDebug.Routes,
        3 => ProtocolDebug.Filters,
        4 => ProtocolDebug.Interfaces,
        5 => ProtocolDebug.Events,
        6 => ProtocolDebug.Packets,
        _ => ProtocolDebug.None,
    };
}
