using Calico.Bgp.Rib;

namespace Calico.Bgp.Fuzz;

/// <summary>A protocol that never runs: the owner of the sample routes the targets feed to filters and commands.</summary>
internal sealed class FuzzProtocol(string name, string typeName = "Static", RoutingTable? table = null)
    : Protocol(name, table ?? new RoutingTable(), TimeProvider.System, 100)
{
    public override string TypeName => typeName;

    public override Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
