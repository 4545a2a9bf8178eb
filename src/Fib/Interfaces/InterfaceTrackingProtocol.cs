using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Fib.Interfaces;

/// <summary>
/// A protocol whose routes follow the interfaces (direct, static): it syncs its routes to an
/// <see cref="InterfaceSnapshot"/> at start and at every change, either from a shared
/// <see cref="IInterfaceSource"/> (the device protocol's, as they happen) or, without one, by reading
/// the interfaces itself every <see cref="ScanInterval"/>. Syncs run one at a time under
/// <see cref="Gate"/>, and none after stop began.
/// </summary>
public abstract class InterfaceTrackingProtocol : Protocol
{
    private readonly Func<IRouteNetlink> _openNetlink;
    private IInterfaceSource? _source;
    private IRouteNetlink? _netlink;
    private CancellationTokenSource? _stop;
    private Task? _loop;
    // The interfaces as last synced to, for the `debug { interfaces }` lines of what changed since.
    private InterfaceSnapshot _traced = InterfaceSnapshot.Empty;

    protected InterfaceTrackingProtocol(string name, RoutingTable table, TimeProvider time, int preference, ILogger log, Func<IRouteNetlink> openNetlink)
        : base(name, table, time, preference)
    {
        Log = log;
        _openNetlink = openNetlink;
    }

    protected ILogger Log { get; }

    /// <summary>Held by every sync, and by whatever else changes the routes (a reload).</summary>
    protected Lock Gate { get; } = new();

    /// <summary>Between start and stop; read and written under <see cref="Gate"/>.</summary>
    protected bool IsRunning { get; private set; }

    /// <summary>How often the interfaces are re-read when no shared source is set.</summary>
    protected abstract TimeSpan ScanInterval { get; }

    /// <summary>Whether the routes depend on interfaces at all now (a static protocol without <c>via</c> routes does not).</summary>
    protected virtual bool NeedsInterfaces => true;

    /// <summary>
    /// A shared interface view (the device protocol, wired by the daemon). When set, the routes follow
    /// its changes as they happen and this protocol reads no interfaces itself; when null, it reads
    /// them every <see cref="ScanInterval"/>. Set before <see cref="StartAsync"/>.
    /// </summary>
    public IInterfaceSource? InterfaceSource
    {
        get => _source;
        set => _source = State == ProtocolState.Down ? value : throw new InvalidOperationException($"{Name}: set the interface source before starting");
    }

    /// <summary>Brings the routes in line with <paramref name="links"/>; called under <see cref="Gate"/>.</summary>
    protected abstract void Sync(InterfaceSnapshot links);

    /// <summary>BIRD's <c>debug { routes }</c> line of a route put in the table or taken out (<c>added</c>, <c>updated</c>, <c>removed</c>).</summary>
    protected void TraceRoute(string what, Prefix prefix)
    {
        if (Trace.Routes.IsEnabled(LogLevel.Debug))
            Trace.Routes.LogDebug(what == "removed" ? ProtocolEvents.RouteWithdrawn : ProtocolEvents.RouteImported, "{Protocol} > {What} {Prefix}", Name, what, prefix);
    }

    /// <summary>BIRD's <c>debug { filters }</c> line of a route the import filter refused.</summary>
    protected void TraceFiltered(Prefix prefix)
    {
        if (Trace.Filters.IsEnabled(LogLevel.Debug))
            Trace.Filters.LogDebug(ProtocolEvents.ImportFiltered, "{Protocol} > filtered out {Prefix}", Name, prefix);
    }

    /// <summary>Forgets the routes after stop withdrew them from the table; called under <see cref="Gate"/>.</summary>
    protected abstract void ForgetRoutes();

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        SetState(ProtocolState.Start);
        lock (Gate)
            IsRunning = true;
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
            _loop = Task.Run(() => ScanLoopAsync(_stop.Token), CancellationToken.None);
        }
    }

    /// <summary>Syncs to a snapshot; runs on the source's thread or the scan loop, one at a time.</summary>
    private void OnInterfacesChanged(InterfaceSnapshot links)
    {
        lock (Gate)
        {
            if (!IsRunning)
                return;
            if (!ReferenceEquals(links, _traced) && Trace.Interfaces.IsEnabled(LogLevel.Debug))
                InterfaceTrace.Write(Trace.Interfaces, Name, _traced, links);
            _traced = links;
            Sync(links);
        }
    }

    private async Task ScanLoopAsync(CancellationToken ct)
    {
        var check = new UnchangedInterfacesCheck();
        var links = InterfaceSnapshot.Empty;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(ScanInterval, Time, ct).ConfigureAwait(false);
                links = await InterfaceSnapshot.ReloadAsync(_netlink!, links, check, ct).ConfigureAwait(false);
                OnInterfacesChanged(links);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NetlinkException or IOException or System.Net.Sockets.SocketException)
            {
                Log.LogWarning(e, "{Protocol}: reading interfaces failed; trying again at the next scan", Name);
            }
        }
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
        lock (Gate)
        {
            IsRunning = false;
            Table.WithdrawAll(this);
            ForgetRoutes();
            _traced = InterfaceSnapshot.Empty;
        }
        _netlink?.Dispose();
        _netlink = null;
        Stats.ResetRouteCounts();
        SetState(ProtocolState.Down);
    }
}
