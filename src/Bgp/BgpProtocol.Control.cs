using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Transport;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Speaker;

/// <summary>What the daemon's control socket and graceful-restart recovery ask of a session.</summary>
public sealed partial class BgpProtocol
{
    private volatile bool _receivedEndOfRib;
    private volatile string? _receivedShutdownMessage;

    /// <summary>
    /// The text of the last shutdown communication the neighbour sent with its Cease (RFC 9003),
    /// until the operator gives this protocol a message of its own (<see cref="ClearReceivedShutdownMessage"/>):
    /// BIRD keeps one message per protocol and both set it.
    /// </summary>
    public string? ReceivedShutdownMessage => _receivedShutdownMessage;

    /// <summary>The operator's <c>enable|disable|restart "msg"</c> replaces what the neighbour said.</summary>
    public void ClearReceivedShutdownMessage() => _receivedShutdownMessage = null;

    /// <summary>
    /// The neighbour sent End-of-RIB in this session (RFC 4724 §2): its initial table is complete.
    /// The daemon's graceful-restart recovery waits for this.
    /// </summary>
    public bool ReceivedEndOfRib => _receivedEndOfRib;

    /// <summary>
    /// Whether the session rules (BIRD's <c>bgp_import_control</c>: not back to its source, iBGP to
    /// iBGP only by reflection, a usable next hop) let <paramref name="route"/> be offered to the
    /// export filter at all; for <c>show route export</c>.
    /// </summary>
    public bool WouldConsider(Route route) => ExportPolicy.Prepare(route, this, _localAddress) is not null;

    /// <summary>
    /// BIRD's <c>reload [in|out]</c>: <paramref name="reloadIn"/> asks the neighbour to send its
    /// routes again (ROUTE-REFRESH, RFC 2918); <paramref name="reloadOut"/> sends ours again.
    /// </summary>
    public void Reload(bool reloadIn, bool reloadOut)
    {
        if (reloadOut)
            RequestRefeed();
        if (!reloadIn)
            return;
        BgpConnection? conn;
        lock (_sync)
            conn = _primary?.Connection;
        if (conn is not null)
            _ = SendRouteRefreshAsync(conn);
    }

    private async Task SendRouteRefreshAsync(BgpConnection conn)
    {
        try
        {
            TraceEvent(ProtocolEvents.RouteRefresh, "Sending ROUTE-REFRESH (reload in)");
            foreach (var family in LocalCapabilities(Options).Families)
                await conn.SendAsync(MessageType.RouteRefresh, w => new RouteRefreshMessage(family, 0).Write(w), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            // The session went down meanwhile; the next one starts with a full table anyway.
        }
    }
}
