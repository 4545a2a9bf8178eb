using Calico.Bgp.Fib.Interfaces;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Fib.Static;

/// <summary>One <c>route P blackhole;</c> / <c>route P via GW;</c> line.</summary>
public sealed record StaticRoute(Prefix Prefix, RouteDest Dest, IpAddr? Gateway = null);

/// <summary>A <c>protocol static</c> block.</summary>
public sealed record StaticProtocolOptions
{
    public required string Name { get; init; }
    public IReadOnlyList<StaticRoute> Routes { get; init; } = [];
    public RouteFilter ImportFilter { get; init; } = RouteFilter.AcceptAll;
    public int Preference { get; init; } = 200;
    /// <summary>How often, in seconds, gateways of <c>via</c> routes are checked against the connected subnets.</summary>
    public int CheckTime { get; init; } = 2;
}

/// <summary>
/// BIRD's static protocol: puts its routes in the table. A <c>via</c> route is there only while its
/// gateway lies on a directly connected subnet of an up interface (BIRD's neighbour check), which
/// is re-checked every <see cref="StaticProtocolOptions.CheckTime"/> seconds.
/// </summary>
public sealed partial class StaticProtocol : Protocol
{
    // Replaced by a reload that changes only routes or the import filter (see TryReconfigure).
    private StaticProtocolOptions _options;
    private readonly ILogger _log;
    private readonly Func<IRouteNetlink> _openNetlink;
    private readonly Dictionary<Prefix, Route> _present = [];
    private readonly Lock _sync = new();
    private IInterfaceSource? _source;
    private bool _running;
    private IRouteNetlink? _netlink;
    private CancellationTokenSource? _stop;
    private Task? _loop;

    public StaticProtocol(StaticProtocolOptions options, RoutingTable table, TimeProvider time, ILoggerFactory loggers, string? netns = null)
        : this(options, table, time, loggers, () => RtNetlinkClient.Open(netns))
    {
    }

    public StaticProtocol(StaticProtocolOptions options, RoutingTable table, TimeProvider time, ILoggerFactory loggers, Func<IRouteNetlink> openNetlink)
        : base(options.Name, table, time, options.Preference)
    {
        _options = options;
        _openNetlink = openNetlink;
        _log = loggers.CreateLogger("Calico.Bgp.Fib.Static");
    }

    public override string TypeName => "Static";

    private bool NeedsInterfaces => _options.Routes.Any(r => r.Dest == RouteDest.Router);

    /// <summary>
    /// A shared interface view (the device protocol, wired by the daemon). When set, <c>via</c>
    /// routes follow its changes as they happen (an interface going down withdraws the routes whose
    /// gateway was on it) and this protocol reads no interfaces itself; when null, it reads them
    /// every <see cref="StaticProtocolOptions.CheckTime"/> seconds. Set before <see cref="StartAsync"/>.
    /// </summary>
    public IInterfaceSource? InterfaceSource
    {
        get => _source;
        set => _source = State == ProtocolState.Down ? value : throw new InvalidOperationException($"{Name}: set the interface source before starting");
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        SetState(ProtocolState.Start);
        lock (_sync)
            _running = true;
        if (_source is { } source && NeedsInterfaces)
        {
            source.Changed += OnInterfacesChanged;
            OnInterfacesChanged(source.Interfaces);
            SetState(ProtocolState.Up);
            return;
        }
        var links = InterfaceSnapshot.Empty;
        if (NeedsInterfaces)
        {
            _netlink = _openNetlink();
            links = await InterfaceSnapshot.LoadAsync(_netlink, cancellationToken).ConfigureAwait(false);
        }
        OnInterfacesChanged(links);
        SetState(ProtocolState.Up);
        if (_netlink is not null)
        {
            _stop = new CancellationTokenSource();
            _loop = Task.Run(() => CheckLoopAsync(_stop.Token), CancellationToken.None);
        }
    }

    private async Task CheckLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(Math.Max(1, _options.CheckTime)), Time, ct).ConfigureAwait(false);
                OnInterfacesChanged(await InterfaceSnapshot.LoadAsync(_netlink!, ct).ConfigureAwait(false));
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NetlinkException or IOException or System.Net.Sockets.SocketException)
            {
                _log.LogWarning(e, "{Protocol}: reading interfaces failed; gateways re-checked next time", Name);
            }
        }
    }

    /// <summary>Syncs to a snapshot; runs on the source's thread or the check loop, one at a time.</summary>
    private void OnInterfacesChanged(InterfaceSnapshot links)
    {
        lock (_sync)
        {
            if (_running)
                Sync(links);
        }
    }

    /// <summary>Puts in the routes that are usable and takes out the ones that are not.</summary>
    private void Sync(InterfaceSnapshot links)
    {
        _lastLinks = links;
        foreach (var s in _options.Routes)
        {
            var attrs = Attributes(s, links);
            Route? route = null;
            if (attrs is not null)
                route = _options.ImportFilter.Apply(new Route(s.Prefix, Table.Attributes.Intern(attrs), this), Table.Attributes);
            _present.TryGetValue(s.Prefix, out var old);
            if (route is null)
            {
                if (old is not null)
                {
                    _present.Remove(s.Prefix);
                    Table.Withdraw(s.Prefix, this);
                    Stats.AddImported(-1);
                    Stats.CountImportWithdraw(true);
                    _log.LogInformation("{Protocol}: {Prefix} withdrawn, gateway {Gateway} not reachable", Name, s.Prefix, s.Gateway);
                }
                continue;
            }
            if (old is not null && ReferenceEquals(old.Attributes, route.Attributes))
                continue;
            if (old is null)
                Stats.AddImported(1);
            Stats.CountImportUpdate(true);
            _present[s.Prefix] = route;
            Table.Update(route);
        }
    }

    private static PathAttributes? Attributes(StaticRoute s, InterfaceSnapshot links)
    {
        var a = new PathAttributes { Source = RouteSource.Static, Dest = s.Dest };
        if (s.Dest != RouteDest.Router)
            return a;
        if (s.Gateway is not { } gw || links.FindConnected(gw) is not { } dev)
            return null;
        return a with { Gateway = gw, Interface = dev.Name };
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        SetState(ProtocolState.Stop);
        if (_stop is not null)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            if (_loop is not null)
                await _loop.ConfigureAwait(false);
            _stop.Dispose();
            _stop = null;
        }
        if (_source is { } source)
            source.Changed -= OnInterfacesChanged;
        lock (_sync)
        {
            _running = false;
            Table.WithdrawAll(this);
            _present.Clear();
        }
        _netlink?.Dispose();
        _netlink = null;
        Stats.ResetRouteCounts();
        SetState(ProtocolState.Down);
    }
}
