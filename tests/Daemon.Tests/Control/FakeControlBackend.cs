using System.Diagnostics.CodeAnalysis;
using Calico.Bgp.Daemon.Control;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Daemon.Tests.Control;

/// <summary>An in-memory <see cref="IControlBackend"/>: a real table, fake protocols, recorded actions.</summary>
internal sealed class FakeControlBackend(TimeProvider time) : IControlBackend
{
    public TimeProvider Time { get; } = time;
    public string Version { get; set; } = "1.6.8";
    public uint RouterId { get; set; } = 0x0A630002;
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset LastReconfigured { get; set; }
    public DaemonPhase Phase { get; set; }
    public GracefulRecoveryStatus? GracefulRecovery { get; set; }
    public List<FakeProtocol> ProtocolList { get; } = [];
    public IReadOnlyList<Protocol> Protocols => ProtocolList;
    public RoutingTable Table { get; } = new();
    public List<ControlSymbol> SymbolList { get; } = [];
    public IReadOnlyList<ControlSymbol> Symbols => SymbolList;
    public List<InterfaceStatus> InterfaceList { get; } = [];
    public IReadOnlyList<InterfaceStatus> Interfaces => InterfaceList;
    public Dictionary<string, RouteFilter> Filters { get; } = [];
    public Func<Protocol, Route, ExportVerdict> Export { get; set; } = (_, _) => ExportVerdict.Accepted;
    public Func<ConfigureRequest, ConfigureResult> Configure { get; set; } = _ => ConfigureResult.Reconfigured("/etc/calico/confd/config/bird.cfg");
    public List<string> Actions { get; } = [];
    public int ShutdownCalls { get; private set; }

    public FakeProtocol Add(string name, string type, int preference)
    {
        var p = new FakeProtocol(name, type, Table, Time, preference);
        ProtocolList.Add(p);
        return p;
    }

    public ProtocolDetail Describe(Protocol protocol) => ((FakeProtocol)protocol).Detail;

    public RouteFilter? FindFilter(string name) => Filters.GetValueOrDefault(name);

    /// <summary>Understands only <c>source = RTS_BGP</c> / <c>source = RTS_STATIC</c>, enough to test the plumbing.</summary>
    public bool TryCompileWhere(string condition, [NotNullWhen(true)] out RouteFilter? filter, out string error)
    {
        var source = condition.Replace(" ", "") switch
        {
            "source=RTS_BGP" => RouteSource.Bgp,
            "source=RTS_STATIC" => RouteSource.Static,
            _ => (RouteSource?)null,
        };
        filter = source is { } s ? new SourceFilter(s) : null;
        error = "syntax error";
        return filter is not null;
    }

    public ExportPreview PreviewExport(Protocol target, Route route) => new(Export(target, route), route);

    public Task<ConfigureResult> ConfigureAsync(ConfigureRequest request, CancellationToken cancellationToken)
    {
        Actions.Add($"configure {request}");
        return Task.FromResult(Configure(request));
    }

    public Task<ProtocolActionResult> EnableAsync(Protocol protocol, string? message, CancellationToken cancellationToken)
    {
        var p = (FakeProtocol)protocol;
        Actions.Add($"enable {p.Name} {message}".TrimEnd());
        if (!p.Disabled)
            return Task.FromResult(ProtocolActionResult.AlreadyEnabled);
        p.Disabled = false;
        return Task.FromResult(ProtocolActionResult.Done);
    }

    public Task<ProtocolActionResult> DisableAsync(Protocol protocol, string? message, CancellationToken cancellationToken)
    {
        var p = (FakeProtocol)protocol;
        Actions.Add($"disable {p.Name} {message}".TrimEnd());
        if (p.Disabled)
            return Task.FromResult(ProtocolActionResult.AlreadyDisabled);
        p.Disabled = true;
        return Task.FromResult(ProtocolActionResult.Done);
    }

    public Task<ProtocolActionResult> RestartAsync(Protocol protocol, string? message, CancellationToken cancellationToken)
    {
        var p = (FakeProtocol)protocol;
        Actions.Add($"restart {p.Name}");
        return Task.FromResult(p.Disabled ? ProtocolActionResult.AlreadyDisabled : ProtocolActionResult.Done);
    }

    public Task<ProtocolActionResult> ReloadAsync(Protocol protocol, ReloadDirection direction, CancellationToken cancellationToken)
    {
        var p = (FakeProtocol)protocol;
        Actions.Add($"reload {direction} {p.Name}");
        if (p.Disabled)
            return Task.FromResult(ProtocolActionResult.AlreadyDisabled);
        return Task.FromResult(p.State == ProtocolState.Up ? ProtocolActionResult.Done : ProtocolActionResult.NotUp);
    }

    public void SetDebug(Protocol protocol, ProtocolDebug flags) => Actions.Add($"debug {protocol.Name} {flags}");

    public void Shutdown() => ShutdownCalls++;

    private sealed class SourceFilter(RouteSource source) : RouteFilter
    {
        public override string Name => "(unnamed)";

        public override Route? Apply(Route route, AttributeCache cache) => route.Attributes.Source == source ? route : null;
    }
}
