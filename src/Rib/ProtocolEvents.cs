using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Rib;

/// <summary>
/// The event ids of protocols' Debug messages, one thousand per BIRD debug class: states 1xxx
/// (<c>D_STATES</c>), routes 2xxx (<c>D_ROUTES</c>), filters 3xxx (<c>D_FILTERS</c>), interfaces
/// 4xxx (<c>D_IFACES</c>), events 5xxx (<c>D_EVENTS</c>), packets 6xxx (<c>D_PACKETS</c>). The
/// daemon's debug switch picks the classes written by these ranges, so a new message only needs an
/// id in the right range.
/// </summary>
public static class ProtocolEvents
{
    // States.
    public static readonly EventId ProtocolStateChanged = new(1000, nameof(ProtocolStateChanged));
    public static readonly EventId BgpStateChanged = new(1001, nameof(BgpStateChanged));

    // Routes: '>' into the table, '<' out of it to the protocol, as BIRD's rte_trace marks them.
    public static readonly EventId RouteImported = new(2000, nameof(RouteImported));
    public static readonly EventId RouteWithdrawn = new(2001, nameof(RouteWithdrawn));
    public static readonly EventId RouteExported = new(2002, nameof(RouteExported));
    public static readonly EventId RouteExportWithdrawn = new(2003, nameof(RouteExportWithdrawn));

    // Filters.
    public static readonly EventId ImportFiltered = new(3000, nameof(ImportFiltered));
    public static readonly EventId ExportFiltered = new(3001, nameof(ExportFiltered));
    public static readonly EventId ExportRejected = new(3002, nameof(ExportRejected));

    // Interfaces.
    public static readonly EventId InterfaceChanged = new(4000, nameof(InterfaceChanged));
    public static readonly EventId AddressChanged = new(4001, nameof(AddressChanged));

    // Events.
    public static readonly EventId Connecting = new(5000, nameof(Connecting));
    public static readonly EventId Connected = new(5001, nameof(Connected));
    public static readonly EventId ConnectionClosed = new(5002, nameof(ConnectionClosed));
    public static readonly EventId SessionEstablished = new(5003, nameof(SessionEstablished));
    public static readonly EventId TimerExpired = new(5004, nameof(TimerExpired));
    public static readonly EventId EndOfRib = new(5005, nameof(EndOfRib));
    public static readonly EventId GracefulRestart = new(5006, nameof(GracefulRestart));
    public static readonly EventId RouteRefresh = new(5007, nameof(RouteRefresh));
    public static readonly EventId Scan = new(5008, nameof(Scan));
    public static readonly EventId ShutdownRequested = new(5009, nameof(ShutdownRequested));

    // Packets.
    public static readonly EventId PacketSent = new(6000, nameof(PacketSent));
    public static readonly EventId PacketReceived = new(6001, nameof(PacketReceived));
}
