using System.Diagnostics.CodeAnalysis;
using Calico.Bgp.Config;
using Calico.Bgp.Daemon.Control;
using Calico.Bgp.Fib.Interfaces;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker;

namespace Calico.Bgp.Daemon.Hosting;

/// <summary>What the control socket sees of the running daemon.</summary>
internal sealed class ControlBackend(RoutingDaemon daemon) : IControlBackend
{
    public string Version => BuildInfo.BirdCompatibleVersion;
    public uint RouterId => daemon.RouterId;
    public DateTimeOffset StartedAt => daemon.StartedAt;
    public DateTimeOffset LastReconfigured => daemon.LastReconfigured;
    public DaemonPhase Phase => daemon.Phase;
    public GracefulRecoveryStatus? GracefulRecovery => daemon.GracefulRecoveryStatus;
    public IReadOnlyList<Protocol> Protocols => daemon.Protocols;
    public RoutingTable Table => daemon.Table;

    public ProtocolDetail Describe(Protocol protocol)
    {
        var config = daemon.ConfigOf(protocol);
        // BIRD records a disable as the "manual down" error class, which it never prints; our
        // speaker keeps whatever the closing socket reported, so it is hidden here.
        var manuallyDown = protocol.State == ProtocolState.Down && daemon.IsDisabled(protocol);
        return new ProtocolDetail
        {
            Info = manuallyDown && protocol is BgpProtocol ? "" : null,
            Description = config?.Description,
            Message = daemon.MessageOf(protocol),
            ImportFilter = config?.ImportFilterName ?? "ACCEPT",
            ExportFilter = config?.ExportFilterName ?? "REJECT",
            GracefulRecoveryPending = daemon.HoldsRecoveryLock(protocol),
            GracefulRecoveryWaiting = protocol is Fib.Kernel.KernelProtocol { IsHoldingPrune: true },
            ImportLimit = protocol is BgpProtocol { Options.ImportLimit: { } limit } limited ? new ProtocolLimit(limit.Limit, limit.ActionName, limited.ImportLimitActive) : null,
            ExtraLines = protocol is BgpProtocol bgp
                ? BgpDetailLines.Format(manuallyDown ? bgp.Snapshot() with { LastError = null } : bgp.Snapshot(), bgp.State == ProtocolState.Down,
                    bgp.Options.ImportLimit is { } l ? (bgp.Stats.Imported + bgp.Stats.Filtered, l.Limit) : null)
                : [],
        };
    }

    public IReadOnlyList<ControlSymbol> Symbols
    {
        get
        {
            var config = daemon.Config;
            if (config is null)
                return [];
            var list = new List<ControlSymbol>();
            list.AddRange(config.Filters.Keys.Select(k => new ControlSymbol(k, "filter")));
            list.AddRange(config.Functions.Keys.Select(k => new ControlSymbol(k, "function")));
            // Protocols and the table are added by the command itself (IControlBackend.Symbols).
            return list;
        }
    }

    public IReadOnlyList<InterfaceStatus> Interfaces =>
        daemon.Protocols.OfType<DeviceProtocol>().FirstOrDefault()?.Interfaces is { } snapshot
            ? InterfaceStatusMapper.Map(snapshot, daemon.CommandLine.Ipv6)
            : [];

    public RouteFilter? FindFilter(string name) =>
        daemon.Config?.Filters.TryGetValue(name, out var f) == true ? f.Filter : null;

    public bool TryCompileWhere(string condition, [NotNullWhen(true)] out RouteFilter? filter, out string error) =>
        WhereCompiler.TryCompile(daemon.Config, condition, out filter, out error);

    public ExportPreview PreviewExport(Protocol target, Route route)
    {
        if (target is BgpProtocol bgp && !bgp.WouldConsider(route))
            return new ExportPreview(ExportVerdict.Refused, route);
        if (ReferenceEquals(route.Protocol, target))
            return new ExportPreview(ExportVerdict.Refused, route);
        var filter = daemon.ConfigOf(target)?.ExportFilter ?? RouteFilter.RejectAll;
        var result = filter.Apply(route, daemon.Table.Attributes);
        return result is null ? new ExportPreview(ExportVerdict.Filtered, route) : new ExportPreview(ExportVerdict.Accepted, result);
    }

    public Task<ConfigureResult> ConfigureAsync(ConfigureRequest request, CancellationToken cancellationToken) =>
        daemon.ConfigureAsync(request, cancellationToken);

    public Task<ProtocolActionResult> EnableAsync(Protocol protocol, string? message, CancellationToken cancellationToken) =>
        daemon.EnableAsync(protocol, message, cancellationToken);

    public Task<ProtocolActionResult> DisableAsync(Protocol protocol, string? message, CancellationToken cancellationToken) =>
        daemon.DisableAsync(protocol, message, cancellationToken);

    public Task<ProtocolActionResult> RestartAsync(Protocol protocol, string? message, CancellationToken cancellationToken) =>
        daemon.RestartProtocolAsync(protocol, message, cancellationToken);

    public Task<ProtocolActionResult> ReloadAsync(Protocol protocol, ReloadDirection direction, CancellationToken cancellationToken) =>
        daemon.ReloadProtocolAsync(protocol, direction, cancellationToken);

    public void SetDebug(Protocol protocol, ProtocolDebug flags) => daemon.SetDebug(protocol, flags);

    public void Shutdown() => daemon.Shutdown();
}
