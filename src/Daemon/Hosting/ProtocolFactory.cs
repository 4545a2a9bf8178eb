using Calico.Bgp.Config;
using Calico.Bgp.Daemon.Logging;
using Calico.Bgp.Fib.Interfaces;
using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Fib.Static;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker;
using Calico.Bgp.Speaker.Export;
using Microsoft.Extensions.Logging;
using ConfigAddPaths = Calico.Bgp.Config.AddPathMode;
using SpeakerAddPaths = Calico.Bgp.Speaker.Wire.AddPathMode;
using SpeakerImportLimit = Calico.Bgp.Speaker.ImportLimit;

namespace Calico.Bgp.Daemon.Hosting;

/// <summary>
/// Turns protocol configs into running protocol instances: the one place where the config model
/// meets the Bgp and Fib option types, with BIRD's defaults for what the config leaves out.
/// </summary>
internal sealed class ProtocolFactory(BirdConfig config, RoutingTable table, TimeProvider time, ILoggerFactory loggers, BgpListener? listener, UpdateGroupRegistry updateGroups, CommandLine cl)
{
    // BIRD's default preferences (nest/proto.c and each protocol's defaults).
    private const int DirectPreference = 240;
    private const int StaticPreference = 200;
    private const int BgpPreference = 100;
    private const int KernelPreference = 10;

    /// <summary>
    /// Export filters in use, by text: peers whose filters read the same share one instance, and so
    /// one update group (<see cref="UpdateGroupKey"/> compares filters by instance).
    /// </summary>
    public Dictionary<RouteFilter, RouteFilter> SharedFilters { get; init; } = [];

    /// <summary>The scheduler every BGP session's timers share (one timer for all of them).</summary>
    public Speaker.Session.DeadlineScheduler? SessionTimers { get; init; }

    private RouteFilter Share(RouteFilter filter)
    {
        if (SharedFilters.TryGetValue(filter, out var shared))
            return shared;
        SharedFilters[filter] = filter;
        return filter;
    }

    /// <summary>
    /// Brings a running protocol from <paramref name="old"/> to <paramref name="next"/> without a
    /// restart when only its policy changed (filters, static routes, description, debug); false
    /// when the change touches the session or the protocol's machinery and it must restart.
    /// </summary>
    public bool TryReconfigure(Protocol instance, ProtocolConfig old, ProtocolConfig next)
    {
        // Cosmetic for every type: shown by `show protocols all`, read from the config.
        var cosmetic = old with { Description = next.Description, Debug = next.Debug };
        switch (instance, old, next)
        {
            case (BgpProtocol bgp, BgpProtocolConfig o, BgpProtocolConfig n)
                when (o with { Description = n.Description, Debug = n.Debug, ImportFilter = n.ImportFilter, ExportFilter = n.ExportFilter }).Equals(n):
                bgp.Reconfigure(n.ImportFilter, Share(n.ExportFilter), n.Description);
                return true;
            case (KernelProtocol kernel, KernelProtocolConfig o, KernelProtocolConfig n)
                when (o with { Description = n.Description, Debug = n.Debug, ExportFilter = n.ExportFilter }).Equals(n):
                kernel.ReconfigureExport(n.ExportFilter);
                return true;
            case (StaticProtocol stat, StaticProtocolConfig o, StaticProtocolConfig n)
                when (o with { Description = n.Description, Debug = n.Debug, Routes = n.Routes, ImportFilter = n.ImportFilter }).Equals(n):
                return stat.TryReconfigure(StaticOptions(n));
            default:
                return cosmetic.Equals(next);
        }
    }

    /// <summary>Builds the protocol instance <paramref name="pc"/> describes, logging under its own category (<see cref="ProtocolLoggerFactory"/>).</summary>
    public Protocol Create(ProtocolConfig pc) => Create(pc, new ProtocolLoggerFactory(loggers, pc.Name, Debug, CategoryLoggers));

    /// <summary>Where the protocols' category loggers come from, when not from <c>loggers</c> (see <see cref="ProtocolCategoryLoggers"/>).</summary>
    public ProtocolCategoryLoggers? CategoryLoggers { get; init; }

    /// <summary>The daemon's debug flags: each protocol's debug class loggers follow them (see <see cref="ProtocolLoggerFactory"/>).</summary>
    public ProtocolDebugSwitch? Debug { get; init; }

    private Protocol Create(ProtocolConfig pc, ILoggerFactory loggers) => pc switch
    {
        BgpProtocolConfig b => CreateBgp(b, loggers),
        // The kernel protocol settles bursts in 1 ms steps: on the system clock, timers that fire on time.
        KernelProtocolConfig k => new KernelProtocol(KernelOptions(k), table, ReferenceEquals(time, TimeProvider.System) ? FineTimeProvider.Instance : time, loggers),
        StaticProtocolConfig s => new StaticProtocol(StaticOptions(s), table, time, loggers),
        DeviceProtocolConfig d => new DeviceProtocol(new DeviceProtocolOptions { Name = d.Name, ScanTime = d.ScanTime }, table, time, loggers),
        DirectProtocolConfig d => new DirectProtocol(new DirectProtocolOptions
        {
            Name = d.Name,
            // An empty list means every interface, as in BIRD.
            InterfacePatterns = d.Interfaces.Count == 0 ? [new(false, "*")] : [.. d.Interfaces.Select(i => new Fib.Interfaces.InterfacePattern(i.Exclude, i.Pattern))],
            Ipv6 = config.Ipv6,
            BothFamilies = config.DualStack,
            ImportFilter = d.ImportFilter,
            Preference = d.Preference ?? DirectPreference,
        }, table, time, loggers),
        _ => throw new InvalidOperationException($"{pc.Location}: protocol type {pc.TypeName} is not supported"),
    };

    internal static StaticProtocolOptions StaticOptions(StaticProtocolConfig s) => new()
    {
        Name = s.Name,
        Routes = [.. s.Routes.Select(r => new StaticRoute(r.Prefix, r.Dest, r.Gateway,
            r.NextHops is { } hops ? [.. hops.Select(h => new StaticNextHop(h.Gateway, h.Weight))] : default))],
        ImportFilter = s.ImportFilter,
        Preference = s.Preference ?? StaticPreference,
    };

    internal KernelProtocolOptions KernelOptions(KernelProtocolConfig k) => new()
    {
        Name = k.Name,
        Persist = k.Persist,
        Learn = k.Learn,
        ScanTime = k.ScanTime,
        ImportFilter = k.ImportFilter,
        ExportFilter = k.ExportFilter,
        GracefulRestart = k.GracefulRestart,
        // Started with -R: keep the routes found in the kernel until BGP has converged.
        HoldPrune = cl.GracefulRestart && k.GracefulRestart,
        MergePaths = k.MergePaths,
        MergePathsLimit = k.MergePathsLimit > 0 ? k.MergePathsLimit : 16,
        KernelTable = k.KernelTable,
        Preference = k.Preference ?? KernelPreference,
        Ipv6 = config.Ipv6,
        BothFamilies = config.DualStack,
        DeviceRoutes = k.DeviceRoutes,
        NexthopObjects = !cl.InlineNexthops,
    };

    /// <summary>
    /// <c>gateway recursive</c> or <c>direct</c>, and BIRD's default without either: recursive for a
    /// multihop session, which iBGP is unless <c>direct</c> is given; direct otherwise.
    /// </summary>
    internal static bool GatewayRecursive(BgpProtocolConfig b) =>
        b.Gateway is { } g ? g == GatewayMode.Recursive : b.Multihop || (b.IsInternal && !b.Direct);

    private BgpProtocol CreateBgp(BgpProtocolConfig b, ILoggerFactory loggers)
    {
        var routerId = config.RouterId ?? throw new InvalidOperationException($"{b.Location}: BGP needs a router id");
        var options = new BgpProtocolOptions
        {
            Name = b.Name,
            RouterId = routerId,
            LocalAs = b.LocalAs,
            NeighborAddress = b.NeighborAddress,
            NeighborPort = b.NeighborPort,
            PeerAs = b.NeighborAs,
            // `local IP as N` and `source address IP` both choose the session's source.
            SourceAddress = b.SourceAddress ?? b.LocalAddress,
            Passive = b.Passive,
            HoldTime = b.HoldTime ?? 240,
            KeepaliveTime = b.KeepaliveTime,
            ConnectRetryTime = b.ConnectRetryTime,
            ConnectDelayTime = b.ConnectDelayTime,
            ErrorWaitMin = b.ErrorWaitMin,
            ErrorWaitMax = b.ErrorWaitMax,
            StartupHoldTime = b.StartupHoldTime ?? 240,
            SendHoldTime = b.SendHoldTime,
            ImportFilter = b.ImportFilter,
            ExportFilter = Share(b.ExportFilter),
            ImportLimit = b.ImportLimit is { } limit ? new SpeakerImportLimit(limit.Limit, limit.Action switch
            {
                LimitAction.Warn => ImportLimitAction.Warn,
                LimitAction.Block => ImportLimitAction.Block,
                LimitAction.Restart => ImportLimitAction.Restart,
                _ => ImportLimitAction.Disable,
            }) : null,
            Description = b.Description,
            NextHopSelf = b.NextHopSelf,
            NextHopKeep = b.NextHopKeep,
            GatewayRecursive = GatewayRecursive(b),
            GracefulRestart = b.GracefulRestart,
            GracefulRestartTime = b.GracefulRestartTime ?? 120,
            AddPaths = b.AddPaths switch
            {
                ConfigAddPaths.Rx => SpeakerAddPaths.Rx,
                ConfigAddPaths.Tx => SpeakerAddPaths.Tx,
                ConfigAddPaths.Both => SpeakerAddPaths.Both,
                _ => SpeakerAddPaths.None,
            },
            // BIRD: a bare `multihop` means TTL 64; iBGP is multihop by default.
            Multihop = b.Multihop ? b.MultihopTtl ?? 64 : null,
            TtlSecurity = b.TtlSecurity,
            Password = b.Password,
            RrClient = b.RrClient,
            RrClusterId = b.RrClusterId,
            AllowLocalAs = b.AllowLocalAs,
            Preference = b.Preference ?? BgpPreference,
            // Dual-stack: the session carries its neighbor's family (as two BIRD 1.6 daemons would).
            Ipv4 = config.DualStack ? !b.NeighborAddress.IsV6 : !config.Ipv6,
            Ipv6 = config.DualStack ? b.NeighborAddress.IsV6 : config.Ipv6,
        };
        return new BgpProtocol(options, table, time, loggers, listener, updateGroups, SessionTimers);
    }
}
