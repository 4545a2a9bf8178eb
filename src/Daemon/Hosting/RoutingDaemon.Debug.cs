using Calico.Bgp.Config;
using Calico.Bgp.Daemon.Control;
using Calico.Bgp.Daemon.Logging;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Daemon.Hosting;

/// <summary>
/// BIRD's per-protocol debug flags: <c>debug { … }</c> in each protocol block, overridden at run time
/// by the <c>debug</c> command until the next <c>configure</c> (BIRD's proto_reconfigure takes the
/// config's flags again). The <see cref="ProtocolDebugSwitch"/> applies them to each protocol's log,
/// and makes each protocol's debug class loggers (<see cref="ProtocolTrace"/>) enabled only while on.
/// </summary>
internal sealed partial class RoutingDaemon
{
    private readonly ProtocolDebugSwitch _debug;

    /// <summary>The <c>debug P …</c> command.</summary>
    public void SetDebug(Protocol protocol, ProtocolDebug flags) => _debug[protocol.Name] = flags;

    /// <summary>The flags in force for <paramref name="protocol"/>.</summary>
    public ProtocolDebug DebugOf(Protocol protocol) => _debug[protocol.Name];

    /// <summary>A config applied (start or reload): every protocol takes its block's flags, without a restart.</summary>
    private void ApplyDebugFlags(BirdConfig config) =>
        _debug.Reset(config.Protocols.Select(p => (p.Name, ProtocolDebugSwitch.FromConfig(p.Debug))));
}
