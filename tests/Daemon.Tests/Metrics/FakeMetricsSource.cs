using Calico.Bgp.Daemon.Control;
using Calico.Bgp.Daemon.Metrics;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Daemon.Tests.Metrics;

/// <summary>An <see cref="IMetricsSource"/> whose every answer a test sets.</summary>
internal sealed class FakeMetricsSource : IMetricsSource
{
    public List<Protocol> ProtocolList { get; } = [];
    public IReadOnlyList<Protocol> Protocols => ProtocolList;
    public RoutingTable Table { get; init; } = new("master");
    public bool Ipv6 { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public long ConfigGeneration { get; set; } = 1;
    public ReloadOutcome? LastReload { get; set; }
    public int ControlClients { get; set; }
    public GracefulRecoveryStatus? GracefulRecovery { get; set; }
    public HashSet<string> Disabled { get; } = [];
    public HashSet<string> RecoveryLocks { get; } = [];

    public bool IsDisabled(Protocol protocol) => Disabled.Contains(protocol.Name);

    public bool HoldsRecoveryLock(Protocol protocol) => RecoveryLocks.Contains(protocol.Name);
}
