using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Speaker;

/// <summary>
/// The receiving speaker of graceful restart (RFC 4724 §4.2): when the session with a neighbour that
/// listed a family in its GR capability goes down, that family's routes are kept, marked stale,
/// until the restarted neighbour's End-of-RIB for it or the restart time; every other family's routes
/// go at once. BIRD 2 advertises the capability with no family by default ("restart-aware"): then
/// nothing is kept.
/// </summary>
public sealed partial class BgpProtocol
{
    // Families whose routes are kept stale now; _peerGracefulRestart is their union.
    private bool _staleV4;
    private bool _staleV6;

    /// <summary>The families (of those negotiated) whose routes the neighbour asked us to keep over its restart.</summary>
    private (bool V4, bool V6) KeptFamilies(CapabilitySet? peer)
    {
        if (!Options.GracefulRestart || peer is not { GracefulRestart: true })
            return (false, false);
        bool Kept(AfiSafi f) => peer.GracefulRestartFamilies.Contains(f) && (f.Afi == Afi.Ipv6 ? Options.Ipv6 : Options.Ipv4);
        return (Kept(AfiSafi.Ipv4Unicast), Kept(AfiSafi.Ipv6Unicast));
    }

    /// <summary>
    /// The session went down: withdraw the neighbour's routes, keeping stale those of the families
    /// it listed in its GR capability (RFC 4724 §4.2) until End-of-RIB or the restart time.
    /// </summary>
    private void SessionDown()
    {
        _receivedEndOfRib = false;
        _attributeMemo.Clear();
        bool keepV4, keepV6, wasUp;
        int restartTime;
        lock (_sync)
        {
            ClearAdjRibOut();
            wasUp = State == ProtocolState.Up;
            if (!wasUp && _peerGracefulRestart)
            {
                // A reconnection attempt failed while the neighbour restarts: its stale routes stay
                // until the restart timer, which keeps running (RFC 4724 §4.2).
                return;
            }
            var caps = _fsm.PeerOpen?.Capabilities;
            (keepV4, keepV6) = wasUp ? KeptFamilies(caps) : (false, false);
            // A family still stale from an earlier restart stays stale only if still listed.
            _staleV4 = keepV4;
            _staleV6 = keepV6;
            _peerGracefulRestart = keepV4 || keepV6;
            restartTime = caps?.GracefulRestartTime ?? 0;
            _restartDeadline = _peerGracefulRestart ? Time.GetUtcNow().AddSeconds(restartTime) : null;
        }
        // As BIRD: the protocol leaves "up" first, then its routes are flushed, so `show protocols`
        // never pairs the neighbour's shutdown message or error with a row still up.
        if (wasUp)
            SetState(ProtocolState.Start);
        if (keepV4 || keepV6)
        {
            lock (_adjRibIn.Sync)
            {
                if (!keepV4)
                    WithdrawPaths(_adjRibIn.RemoveFamily(v6: false));
                if (!keepV6)
                    WithdrawPaths(_adjRibIn.RemoveFamily(v6: true));
                _adjRibIn.MarkStale();
                Table.MarkStale(this);
            }
            _log.LogInformation("{Name}: neighbor restarting, keeping {Families} routes stale for {Seconds} s", Name,
                keepV4 && keepV6 ? "ipv4 and ipv6" : keepV4 ? "ipv4" : "ipv6", restartTime);
            TraceEvent(ProtocolEvents.GracefulRestart, "Neighbor graceful restart detected");
            _ = ExpireStaleAsync(restartTime);
        }
        else
        {
            lock (_adjRibIn.Sync)
            {
                _adjRibIn.Clear();
                Table.WithdrawAll(this);
            }
            Stats.ResetRouteCounts();
        }
    }

    /// <summary>
    /// The session is Established again while routes are stale: RFC 4724 §4.2 — a family missing from
    /// the new GR capability, or listed without the forwarding-state bit, loses its stale routes now;
    /// the others wait for their End-of-RIB.
    /// </summary>
    private void GracefulRestartReestablished(CapabilitySet? peer)
    {
        bool dropV4, dropV6;
        lock (_sync)
        {
            if (!_peerGracefulRestart)
                return;
            bool Keeps(AfiSafi f) => peer is { GracefulRestart: true } && peer.GracefulRestartFamilies.Contains(f) && peer.GracefulRestartForwarding.Contains(f);
            dropV4 = _staleV4 && !Keeps(AfiSafi.Ipv4Unicast);
            dropV6 = _staleV6 && !Keeps(AfiSafi.Ipv6Unicast);
        }
        if (dropV4)
            RemoveStale(v6: false);
        if (dropV6)
            RemoveStale(v6: true);
    }

    /// <summary>RFC 4724 §4.2: End-of-RIB of one family from a restarted peer removes what is still stale in it.</summary>
    private void EndOfRib(bool v6)
    {
        _receivedEndOfRib = true;
        TraceEvent(ProtocolEvents.EndOfRib, v6 ? "Got End-of-RIB (ipv6)" : "Got End-of-RIB (ipv4)");
        RemoveStale(v6);
    }

    /// <summary>Removes the stale routes of one family and ends the restart when none is left stale.</summary>
    private void RemoveStale(bool v6)
    {
        lock (_sync)
        {
            if (!(v6 ? _staleV6 : _staleV4))
                return;
            if (v6)
                _staleV6 = false;
            else
                _staleV4 = false;
            _peerGracefulRestart = _staleV4 || _staleV6;
            if (!_peerGracefulRestart)
                _restartDeadline = null;
        }
        TraceEvent(ProtocolEvents.GracefulRestart, v6 ? "Removing stale ipv6 routes" : "Removing stale ipv4 routes");
        lock (_adjRibIn.Sync)
            WithdrawPaths(_adjRibIn.RemoveStale(v6));
    }

    /// <summary>Takes paths no longer in the Adj-RIB-In out of the table too.</summary>
    private void WithdrawPaths(List<Nlri> paths)
    {
        foreach (var n in paths)
        {
            if (Table.Withdraw(n.Prefix, this, n.PathId))
                Stats.AddImported(-1);
        }
    }

    private async Task ExpireStaleAsync(int seconds)
    {
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(seconds), Time, _cts?.Token ?? CancellationToken.None).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        lock (_sync)
        {
            if (!_peerGracefulRestart || _restartDeadline is not { } d || Time.GetUtcNow() < d)
                return;
        }
        _log.LogInformation("{Name}: neighbor restart time ran out, removing stale routes", Name);
        RemoveStale(v6: false);
        RemoveStale(v6: true);
    }
}
