using Calico.Bgp.Rib;
using Calico.Bgp.Speaker;
using Calico.Bgp.Speaker.Session;

namespace Calico.Bgp.Daemon.Hosting;

/// <summary>
/// The BGP part of <c>show protocols all</c>, worded and indented as BIRD 1.6's
/// <c>bgp_show_proto_info</c> prints it.
/// </summary>
internal static class BgpDetailLines
{
    /// <param name="s">The session.</param>
    /// <param name="protocolDown">
    /// The protocol is down (disabled, or stopped by an error): BIRD then says <c>Down</c> whatever the
    /// FSM last was, and prints nothing about timers or graceful restart, only the last error.
    /// </param>
    /// <param name="routeLimit">
    /// With an <c>import limit</c>: the routes held against it (imported plus kept filtered, as BIRD
    /// counts them) and the limit, printed as <c>Route limit:</c> after the source address.
    /// </param>
    public static IReadOnlyList<string> Format(BgpSessionInfo s, bool protocolDown, (long Routes, long Limit)? routeLimit = null)
    {
        var lines = new List<string>
        {
            $"  BGP state:          {(protocolDown ? "Down" : s.StateName)}",
            $"    Neighbor address: {s.NeighborAddress}",
            $"    Neighbor AS:      {s.NeighborAs}",
        };
        if (protocolDown)
        {
            AddLastError(lines, s);
            return lines;
        }
        // BIRD prints this right after the AS while the peer's routes are kept stale.
        if (s.NeighborGracefulRestartActive)
            lines.Add("    Neighbor graceful restart active");
        if (s.State == BgpState.Established)
        {
            if (s.NeighborId is { } id)
                lines.Add($"    Neighbor ID:      {IpAddr.FromV4(id)}");
            if (s.NeighborCapabilities is { } caps)
                lines.Add($"    Neighbor caps:    {caps}");
            if (s.SessionFlags is { } flags)
                lines.Add($"    Session:          {flags}");
            if (s.SourceAddress is { } src)
                lines.Add($"    Source address:   {src}");
            if (routeLimit is var (routes, limit))
                lines.Add($"    Route limit:      {routes}/{limit}");
            if (s.HoldTime is { } hold)
                lines.Add($"    Hold timer:       {s.HoldRemaining ?? hold}/{hold}");
            if (s.KeepaliveTime is { } ka)
                lines.Add($"    Keepalive timer:  {s.KeepaliveRemaining ?? ka}/{ka}");
        }
        else
        {
            // BIRD 1.6's order: the error wait (startup timer), the outgoing connection's connect
            // delay while Active, then the restart timer, which has no total.
            if (s.ErrorWaitRemaining is { } wait)
                lines.Add($"    Error wait:       {wait}/{s.ErrorWaitTime ?? wait}");
            if (s.ConnectDelayRemaining is { } delay)
                lines.Add($"    Connect delay:    {delay}/{s.ConnectDelayTime ?? delay}");
            if (s.NeighborGracefulRestartActive && s.RestartTimerRemaining is { } left)
                lines.Add($"    Restart timer:    {left}/-");
        }
        AddLastError(lines, s);
        return lines;
    }

    private static void AddLastError(List<string> lines, BgpSessionInfo s)
    {
        if (!string.IsNullOrEmpty(s.LastError))
            lines.Add($"    Last error:       {s.LastError}");
    }
}
