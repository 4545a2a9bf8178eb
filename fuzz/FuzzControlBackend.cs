using System.Diagnostics.CodeAnalysis;
using Calico.Bgp.Config;
using Calico.Bgp.Daemon.Control;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Fuzz;

/// <summary>
/// A daemon as the control socket sees it: a kernel, a static and a BGP protocol and a few
/// routes, so <c>show route</c>, <c>show protocols all</c> and the protocol actions reach their
/// formatters. <c>where</c> conditions go to the real compiler, as the daemon's backend sends them.
/// </summary>
internal sealed class FuzzControlBackend : IControlBackend
{
    private readonly List<Protocol> _protocols;

    public FuzzControlBackend()
    {
        var kernel = new FuzzProtocol("kernel1", "Kernel", Table);
        var stat = new FuzzProtocol("static1", "Static", Table);
        var mesh = new FuzzProtocol("Mesh_10_0_0_2", "BGP", Table);
        _protocols = [kernel, stat, mesh];
        Table.Update(Route.Create(Prefix.Parse("10.233.89.0/26"), new PathAttributes { Source = RouteSource.Static, Dest = RouteDest.Blackhole }, stat, preference: 200));
        Table.Update(Route.Create(Prefix.Parse("10.233.68.0/26"), new PathAttributes
        {
            Source = RouteSource.Bgp,
            Dest = RouteDest.Router,
            Gateway = IpAddr.Parse("10.0.0.2"),
            NextHop = IpAddr.Parse("10.0.0.2"),
            LocalPref = 100,
            AsPath = AsPath.Empty,
            Origin = BgpOrigin.Igp,
            Communities = [Community.FromRaw(0xFDE80001)],
        }, mesh, preference: 100));
        Table.Update(Route.Create(Prefix.Parse("0.0.0.0/0"), new PathAttributes { Source = RouteSource.Inherit, Dest = RouteDest.Device, Interface = "eth0" }, kernel, preference: 10));
    }

    public string Version => "1.6.8";
    public uint RouterId => 0x0A000001;
    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UnixEpoch;
    public DateTimeOffset LastReconfigured { get; } = DateTimeOffset.UnixEpoch;
    public DaemonPhase Phase => default;
    public GracefulRecoveryStatus? GracefulRecovery => null;
    public IReadOnlyList<Protocol> Protocols => _protocols;
    public RoutingTable Table { get; } = new();
    public IReadOnlyList<ControlSymbol> Symbols { get; } = [new("kernel1", "protocol"), new("calico_kernel_programming", "filter")];
    public IReadOnlyList<InterfaceStatus> Interfaces { get; } =
        [new("eth0", true, 2, "MultiAccess Broadcast Multicast", 1500, [new InterfaceAddress(IpAddr.Parse("10.0.0.1"), 24, true, "site")])];

    public ProtocolDetail Describe(Protocol protocol) => ProtocolDetail.Default;

    public RouteFilter? FindFilter(string name) => name == "calico_kernel_programming" ? RouteFilter.AcceptAll : null;

    /// <summary>What the daemon's <c>WhereCompiler</c> does.</summary>
    public bool TryCompileWhere(string condition, [NotNullWhen(true)] out RouteFilter? filter, out string error)
    {
        try
        {
            filter = WhereCondition.Compile(condition, new ConfigLoadOptions());
            error = "";
            return true;
        }
        catch (ConfigException e)
        {
            filter = null;
            error = e.Reason;
            return false;
        }
    }

    public ExportPreview PreviewExport(Protocol target, Route route) => new(ExportVerdict.Accepted, route);

    public Task<ConfigureResult> ConfigureAsync(ConfigureRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(ConfigureResult.Reconfigured(request.File ?? "/etc/calico/confd/config/bird.cfg"));

    public Task<ProtocolActionResult> EnableAsync(Protocol protocol, string? message, CancellationToken cancellationToken) =>
        Task.FromResult(ProtocolActionResult.AlreadyEnabled);

    public Task<ProtocolActionResult> DisableAsync(Protocol protocol, string? message, CancellationToken cancellationToken) =>
        Task.FromResult(ProtocolActionResult.Done);

    public Task<ProtocolActionResult> RestartAsync(Protocol protocol, string? message, CancellationToken cancellationToken) =>
        Task.FromResult(ProtocolActionResult.Done);

    public Task<ProtocolActionResult> ReloadAsync(Protocol protocol, ReloadDirection direction, CancellationToken cancellationToken) =>
        Task.FromResult(ProtocolActionResult.NotUp);

    public void SetDebug(Protocol protocol, ProtocolDebug flags)
    {
    }

    public void Shutdown()
    {
    }
}
