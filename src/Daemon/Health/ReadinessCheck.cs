using System.Text.RegularExpressions;
using Calico.Bgp.Daemon.Metrics;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Daemon.Health;

/// <summary>
/// <c>/readyz</c>: calico-node's <c>--bird-ready</c> rule (shared/CALICO.md c.2) evaluated on the
/// daemon's own objects, so the HTTP probe and an exec probe (<c>calico-bgpc health</c>, or
/// calico-node's own check over the socket) give the same verdict:
/// no Calico BGP peers → ready; within the start-up window every peer Established and no
/// graceful-restart recovery running; after it, at least one peer Established.
/// The start-up window counts from the daemon's start (calico-node uses its nodename file's age,
/// which is the pod's start when the daemon starts with the pod).
/// </summary>
public sealed partial class ReadinessCheck(IMetricsSource source, TimeProvider time)
{
    public HealthVerdict Evaluate(TimeSpan startupWindow)
    {
        var peers = CalicoPeers(source.Protocols, source.Ipv6);
        var withinWindow = time.GetUtcNow() - source.StartedAt < startupWindow;
        return Decide(peers, withinWindow, () => source.GracefulRecovery is not null);
    }

    /// <summary>
    /// The BGP rows calico-node would parse from <c>show protocols</c>: type BGP, a name
    /// <c>Global_|Node_|Mesh_…</c>, and a non-empty info column (a down protocol without an error
    /// prints none, and Calico skips rows with fewer than six columns). The BGP state is the info
    /// column's first word.
    /// </summary>
    internal static List<ReadinessPeer> CalicoPeers(IEnumerable<Protocol> protocols, bool ipv6)
    {
        List<ReadinessPeer> peers = [];
        foreach (var p in protocols)
        {
            if (p.TypeName != "BGP" || PeerName().Match(p.Name) is not { Success: true } m)
                continue;
            var info = p.Info.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (info.Length == 0)
                continue;
            peers.Add(new ReadinessPeer(m.Groups[2].Value.Replace('_', ipv6 ? ':' : '.'), info[0]));
        }
        return peers;
    }

    /// <summary>calico-node's <c>checkBIRDReady</c> after the peers are known; GR is only asked for within the window, as there.</summary>
    internal static HealthVerdict Decide(IReadOnlyList<ReadinessPeer> peers, bool withinStartupWindow, Func<bool> gracefulRestartInProgress)
    {
        if (peers.Count == 0)
            return HealthVerdict.Ok("no BGP peers");
        var down = peers.Where(p => p.BgpState != "Established").Select(p => p.Address).ToList();
        if (withinStartupWindow)
        {
            if (down.Count > 0)
                return HealthVerdict.Fail($"BGP not established with {string.Join(',', down)}");
            if (gracefulRestartInProgress())
                return HealthVerdict.Fail("graceful restart in progress");
            return HealthVerdict.Ok("all BGP peers established");
        }
        return down.Count < peers.Count
            ? HealthVerdict.Ok($"{peers.Count - down.Count} of {peers.Count} BGP peers established")
            : HealthVerdict.Fail($"BGP not established with {string.Join(',', down)}");
    }

    [GeneratedRegex(@"^(Global|Node|Mesh)_(.+)$")]
    private static partial Regex PeerName();
}

/// <summary>A Calico BGP peer as the readiness rule sees it: its address (from the protocol name) and BGP state word.</summary>
public sealed record ReadinessPeer(string Address, string BgpState);
