using Calico.Bgp.Daemon.Control;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Daemon.Tests.Control;

/// <summary>A protocol whose state and info column tests set directly.</summary>
internal sealed class FakeProtocol(string name, string typeName, RoutingTable table, TimeProvider time, int preference)
    : Protocol(name, table, time, preference)
{
    private string _info = "";

    public override string TypeName => typeName;

    public override string Info => _info;

    public ProtocolDetail Detail { get; set; } = ProtocolDetail.Default;

    public bool Disabled { get; set; }

    /// <summary>The debug class loggers, as a real protocol makes them from its logger factory.</summary>
    public ProtocolTrace DebugTrace { init => Trace = value; }

    public void Set(ProtocolState state, string info = "")
    {
        SetState(state);
        _info = info;
    }

    public override Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
