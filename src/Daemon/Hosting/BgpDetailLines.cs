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
    public static IReadOnlyList<string> Format(BgpSessionInfo s)
    {
        var lines = new List<string>
        {
            $"  BGP state:          {s.StateName}",
            $"    Neighbor address: {s.NeighborAddress}",
            $"    Neighbor AS:      {s.NeighborAs}",
        };
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
            if (s.HoldTime is { } hold)
                lines.Add($"    Hold timer:       {s.HoldRemaining ?? hold}/{hold}");
            if (s.KeepaliveTime is { } ka)
                lines.Add($"    Keepalive timer:  {s.KeepaliveRemaining ?? ka}/{ka}");
        }
        if (s.NeighborGracefulRestartActive && s.RestartTime is { } rt)
            lines.Add($"    Neighbor graceful restart active: {s.RestartTimerRemaining ?? rt}/{rt}");
        if (!string.IsNullOrEmpty(s.LastError))
            lines.Add($"    Last error:       {s.LastError}");
        return lines;
    }
}
