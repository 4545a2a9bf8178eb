using Calico.Bgp.Speaker.Session;

namespace Calico.Bgp.Speaker;

public sealed partial class BgpProtocol
{
    /// <summary>A consistent picture of the session for <c>show protocols all</c>.</summary>
    public BgpSessionInfo Snapshot()
    {
        lock (_sync)
        {
            var now = Time.GetUtcNow();
            var established = _fsm.State == BgpState.Established;
            var peer = _fsm.PeerOpen;
            string? flags = null;
            if (established)
            {
                var c = _fsm.Codec;
                var parts = new List<string> { IsInternal ? "internal" : "external" };
                if (Options.Multihop is not null || IsInternal)
                    parts.Add("multihop");
                if (c.FourOctetAs)
                    parts.Add("AS4");
                if (((c.AddPathIpv4 | c.AddPathIpv6) & Wire.AddPathMode.Rx) != 0)
                    parts.Add("add-path-rx");
                if (((c.AddPathIpv4 | c.AddPathIpv6) & Wire.AddPathMode.Tx) != 0)
                    parts.Add("add-path-tx");
                if (c.ExtendedMessages)
                    parts.Add("ext-messages");
                flags = string.Join(' ', parts);
            }
            var connectDelay = _fsm.State == BgpState.Active && !Options.Passive && _fsm.ConnectDelaySeconds is not null ? _fsm.ConnectRetryDeadline : null;
            static int? Remaining(DateTimeOffset? d, DateTimeOffset now) => d is { } x ? Math.Max(0, (int)Math.Ceiling((x - now).TotalSeconds)) : null;
            return new BgpSessionInfo
            {
                State = _fsm.State,
                StateName = StateName(_fsm.State),
                NeighborAddress = Options.NeighborAddress,
                NeighborAs = Options.PeerAs,
                NeighborId = established ? peer?.RouterId : null,
                LocalAs = Options.LocalAs,
                SourceAddress = established ? Options.SourceAddress ?? _localAddress : null,
                NeighborCapabilities = established ? peer?.Capabilities.Describe() : null,
                LocalCapabilities = _fsm.Config.Capabilities.Describe(),
                SessionFlags = flags,
                HoldTime = established ? _fsm.HoldTime : null,
                HoldRemaining = established ? Remaining(_fsm.HoldDeadline, now) : null,
                KeepaliveTime = established ? _fsm.KeepaliveTime : null,
                KeepaliveRemaining = established ? Remaining(_fsm.KeepaliveDeadline, now) : null,
                LastError = _fsm.LastError,
                NeighborGracefulRestartActive = _peerGracefulRestart,
                RestartTimerRemaining = _peerGracefulRestart ? Remaining(_restartDeadline, now) : null,
                RestartTime = peer?.Capabilities.GracefulRestart == true ? peer.Capabilities.GracefulRestartTime : null,
                ConnectDelayRemaining = Remaining(connectDelay, now),
                ConnectDelayTime = connectDelay is null ? null : _fsm.ConnectDelaySeconds,
                ErrorWaitRemaining = _errorWait is { } w ? Remaining(w.Until, now) : null,
                ErrorWaitTime = _errorWait?.Seconds,
            };
        }
    }
}
