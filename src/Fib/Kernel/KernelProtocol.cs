using System.Collections.Immutable;
using System.Threading.Channels;
using Calico.Bgp.Fib.Interfaces;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Fib.Kernel;

/// <summary>
/// BIRD 1.6's kernel protocol: keeps the kernel's routing table in step with the best routes of the
/// table (export, <c>proto bird</c>), imports alien kernel routes (<c>learn</c>), rescans every
/// <c>scan time</c> to repair drift, and leaves its routes behind on stop with <c>persist</c>.
/// A reconcile loop (one task per protocol) reads the table's change journal in batches from its own
/// cursor (<see cref="JournalReader"/>), coalesced per prefix; writes are batched and every result is
/// checked: a failure is logged, counted and retried on the next scan.
/// </summary>
public sealed partial class KernelProtocol : Protocol
{
    // Replaced whole by a reload that changes only the export filter (see Reconfigure).
    private volatile KernelProtocolOptions _options;
    private readonly ILogger _log;
    private readonly Func<IRouteNetlink> _openNetlink;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    // Owned by the loop (and by Start/Stop while the loop is not running).
    // What the kernel holds of ours and what the table wants, one slot per prefix (one probe per step).
    private readonly KernelView _view = new();
    private readonly HashSet<Prefix> _retry = [];
    private readonly Dictionary<Prefix, (ImmutableArray<PathAttributes> Paths, int Kept)> _learned = [];
    private InterfaceSnapshot _links = InterfaceSnapshot.Empty;
    // Compares the scan's own interface read with _links (no device protocol to share one with).
    private readonly UnchangedInterfacesCheck _linksCheck = new();

    private IRouteNetlink? _netlink;
    private JournalReader? _reader;
    private CancellationTokenSource? _stop;
    private Task? _loop;
    private Task? _listener;
    private INetlinkListener? _notifications;
    private IInterfaceSource? _interfaceSource;
    private volatile bool _pruneAllowed;
    private volatile bool _scanRequested;
    private volatile bool _refeedRequested;

    public KernelProtocol(KernelProtocolOptions options, RoutingTable table, TimeProvider time, ILoggerFactory loggers, string? netns = null)
        : this(options, table, time, loggers, () => RtNetlinkClient.Open(netns, options.NexthopObjects))
    {
    }

    /// <summary>
    /// With another rtnetlink (an in-memory fake in tests). Notifications come from the netlink's own
    /// <see cref="IRouteNetlink.OpenListener"/>; <paramref name="netns"/> is not needed any more and
    /// kept so existing callers compile.
    /// </summary>
    public KernelProtocol(KernelProtocolOptions options, RoutingTable table, TimeProvider time, ILoggerFactory loggers, Func<IRouteNetlink> openNetlink, string? netns)
        : this(options, table, time, loggers, openNetlink)
    {
        _ = netns;
    }

    /// <summary>With another rtnetlink (an in-memory fake in tests).</summary>
    public KernelProtocol(KernelProtocolOptions options, RoutingTable table, TimeProvider time, ILoggerFactory loggers, Func<IRouteNetlink> openNetlink)
        : base(options.Name, table, time, options.Preference)
    {
        _options = options;
        _openNetlink = openNetlink;
        _log = loggers.CreateLogger("Calico.Bgp.Fib.Kernel");
        Trace = new ProtocolTrace(loggers);
    }

    public override string TypeName => "Kernel";
    public KernelProtocolOptions Options => _options;
    public KernelCounters Counters { get; } = new();

    /// <summary>True while routes of ours from before the start are kept (graceful restart recovery).</summary>
    public bool IsHoldingPrune => !_pruneAllowed;

    private uint KernelTable => (uint)_options.KernelTable;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        SetState(ProtocolState.Start);
        _netlink = _openNetlink();
        _pruneAllowed = !_options.HoldPrune;
        _stop = new CancellationTokenSource();
        try
        {
            // Listen before the first dump, so a change made between the dump and the listening is not missed.
            if (_options.Notifications)
                _notifications = _netlink.OpenListener(_options.BothFamilies ? [Rtnl.GroupIpv4Route, Rtnl.GroupIpv6Route] : [_options.Ipv6 ? Rtnl.GroupIpv6Route : Rtnl.GroupIpv4Route]);
            _links = await InterfaceSnapshot.LoadAsync(_netlink, cancellationToken).ConfigureAwait(false);
            await ReadKernelAsync(cancellationToken).ConfigureAwait(false);
            _log.LogInformation("{Protocol}: found {Count} routes of ours in kernel table {Table}{Hold}", Name, _view.InstalledCount, KernelTable,
                _pruneAllowed ? "" : " (kept until graceful restart recovery ends)");
            _reader = Table.SubscribeJournal(Name, _options.JournalCapacity);
        }
        catch
        {
            _notifications?.Dispose();
            _notifications = null;
            _netlink.Dispose();
            _netlink = null;
            SetState(ProtocolState.Down);
            throw;
        }
        if (_notifications is { } listener)
        {
            var portId = _netlink.PortId;
            _listener = Task.Run(() => ListenAsync(listener, portId, _stop.Token), CancellationToken.None);
        }
        if (_interfaceSource is { } source)
            source.Changed += OnInterfacesChanged;
        SetState(ProtocolState.Up);
        _loop = Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>
    /// Ends graceful-restart recovery (BGP has converged): routes of ours that are not wanted any more
    /// are removed now, and from here on at once.
    /// </summary>
    public void EndGracefulRecovery()
    {
        if (_pruneAllowed)
            return;
        _pruneAllowed = true;
        RequestScan();
    }

    /// <summary>Asks the loop for a scan now (used on notifications and lost notifications).</summary>
    public void RequestScan()
    {
        _scanRequested = true;
        _wake.Writer.TryWrite(true);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stop is null)
            return;
        SetState(ProtocolState.Stop);
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var task in new[] { _loop, _listener })
        {
            if (task is null)
                continue;
            try
            {
                await task.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Expected: the loop ends by cancellation.
            }
        }
        // A write the loop left in flight: its results in, so the routes it added are removed below.
        await FinishWriteQuietlyAsync().ConfigureAwait(false);
        if (_interfaceSource is { } source)
            source.Changed -= OnInterfacesChanged;
        _notifications?.Dispose();
        _notifications = null;
        _listener = null;
        _loop = null;
        _reader?.Dispose();
        _reader = null;
        _held.Clear();
        _nextRelease = long.MaxValue;
        var learned = Table.WithdrawAll(this);
        Stats.AddImported(-learned);
        _learned.Clear();
        ForgetAliens();
        Counters.SetLearned(0);
        if (!_options.Persist && _netlink is not null && _view.InstalledCount > 0)
        {
            var changes = new List<RouteChange>(_view.InstalledCount);
            foreach (var (_, slot) in _view)
            {
                if (slot.Installed is { } installed)
                    changes.Add(RouteChange.Delete(installed));
            }
            // Not in the view's order (the order they were added): scattered, which the kernel deletes in half the time.
            KernelDeleteOrder.Scatter(changes);
            await ApplyAsync(changes, cancellationToken).ConfigureAwait(false);
            _log.LogInformation("{Protocol}: removed {Count} routes from the kernel", Name, changes.Count);
        }
        // Also when no route of ours was left: objects whose last routes went since the last scan.
        if (!_options.Persist && _netlink is not null)
        {
            try
            {
                await _netlink.RemoveUnusedNexthopsAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is NetlinkException or IOException or System.Net.Sockets.SocketException)
            {
                // Objects no route names cost the kernel nothing; the next start's first scan removes them.
                _log.LogWarning(e, "{Protocol}: could not remove unused nexthop objects", Name);
            }
        }
        _netlink?.Dispose();
        _netlink = null;
        _stop.Dispose();
        _stop = null;
        Stats.ResetRouteCounts();
        SetState(ProtocolState.Down);
    }

    private async Task RunAsync(CancellationToken ct)
    {
        var scanEvery = TimeSpan.FromSeconds(Math.Max(1, _options.ScanTime));
        var nextScan = Time.GetUtcNow() + scanEvery;
        var reader = _reader!;
        // Waits are kept across iterations, so a busy table does not pile up timers and waiters.
        Task? changed = null;
        Task? woken = null;
        Task? delay = null;
        var initialFeed = true;
        var read = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                // The first resync is the initial feed (a new reader starts with one); later ones follow
                // a fall behind the journal (its ENOBUFS) or a new export filter.
                if (reader.NeedsResync || _refeedRequested)
                {
                    // Not before the initial feed: what the table holds at start is written at once, and
                    // what arrives meanwhile comes through the journal (a bulk stream planned in batches,
                    // a prefix's paths held per prefix), so waiting for the table to be still would only
                    // delay the first route (P5: 20-40 ms while a table was being fed).
                    if (!initialFeed)
                        await SettleAsync(reader, ct).ConfigureAwait(false);
                    await ResyncAsync(reader, initialFeed, ct).ConfigureAwait(false);
                    if (initialFeed && _pruneAllowed)
                        await PruneAsync(ct).ConfigureAwait(false);
                    initialFeed = false;
                }
                // Not catching up on a backlog, the prefixes read are held until each has settled
                // (ReadBatchAsync), so the paths of one prefix arriving together are written once, together.
                read = await ReadBatchAsync(reader, ct).ConfigureAwait(false);
                if (_scanRequested || Time.GetUtcNow() >= nextScan)
                {
                    _scanRequested = false;
                    if (Trace.Events.IsEnabled(LogLevel.Debug))
                        Trace.Events.LogDebug(ProtocolEvents.Scan, "{Protocol}: Scanning routing table", Name);
                    await ScanAsync(ct).ConfigureAwait(false);
                    nextScan = Time.GetUtcNow() + scanEvery;
                    delay = null;
                }
                // A full batch means more is likely waiting: read on before sleeping.
                if (read == JournalBatch || reader.NeedsResync)
                    continue;

                changed ??= reader.WaitAsync(ct).AsTask();
                woken ??= _wake.Reader.WaitToReadAsync(ct).AsTask();
                delay ??= Task.Delay(WholeMilliseconds(nextScan - Time.GetUtcNow()), Time, ct);
                if (UntilNextRelease() is { } release)
                {
                    // Prefixes are held: woken when the next one is due, not at every change (a burst's
                    // changes are read then, together), which keeps the wake-ups to one per settle step.
                    if (release == TimeSpan.Zero)
                        continue;
                    await Task.WhenAny(Task.Delay(release, Time, ct), delay, woken).ConfigureAwait(false);
                }
                else
                {
                    await Task.WhenAny(changed, delay, woken).ConfigureAwait(false);
                }
                if (woken.IsCompleted)
                {
                    _wake.Reader.TryRead(out _);
                    woken = null;
                }
                if (delay.IsCompleted)
                    delay = null;
                if (changed.IsCompleted)
                {
                    await changed.ConfigureAwait(false);
                    changed = null;
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (NetlinkException e) when (e.Errno == Errno.Enobufs)
            {
                // Replies were lost, so what the kernel did with some writes is unknown: read it back
                // now (BIRD's resync on ENOBUFS) rather than at the next scan.
                _log.LogWarning("{Protocol}: {Error}; re-reading the kernel table", Name, e.Message);
                Counters.CountResync();
                _scanRequested = true;
            }
            catch (Exception e) when (e is NetlinkException or IOException or System.Net.Sockets.SocketException or OperationCanceledException)
            {
                // A failed dump or send: everything is retried by the next scan.
                _log.LogWarning(e, "{Protocol}: kernel sync failed; retrying at the next scan", Name);
                nextScan = Time.GetUtcNow() + scanEvery;
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), Time, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>
    /// A shared interface view (the device protocol's, wired by the daemon): when interfaces change,
    /// routes are re-planned at once (a <c>krt_tunnel</c> device appearing or going, an index
    /// changing) instead of at the next scan. Set before <see cref="StartAsync"/>.
    /// </summary>
    public IInterfaceSource? InterfaceSource
    {
        get => _interfaceSource;
        set => _interfaceSource = State == ProtocolState.Down ? value : throw new InvalidOperationException($"{Name}: set the interface source before starting");
    }

    /// <summary>
    /// <paramref name="wait"/> rounded up to whole milliseconds (none when it is not positive):
    /// <c>Task.Delay</c> with a time provider counts whole milliseconds and drops the rest, so a wait
    /// under one was a delay already done. A timer that fired a fraction of a millisecond before the
    /// scan was due (the system's timers keep whole milliseconds) then had the loop spin until the
    /// clock passed it: ~300 turns and ~120 KB of garbage a scan in an idle daemon (bench/RESULTS-perf.md,
    /// seventeenth round). The wait for a held prefix's release is left as it was: under a millisecond
    /// it turns until the release is due, only while prefixes are held, and P3 times that path.
    /// </summary>
    internal static TimeSpan WholeMilliseconds(TimeSpan wait) =>
        wait <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds));

    private void OnInterfacesChanged(InterfaceSnapshot snapshot) => RequestScan();

    /// <summary>Listens to route notifications; a change by someone else (or lost notifications) triggers a scan.</summary>
    private async Task ListenAsync(INetlinkListener socket, uint ownPortId, CancellationToken ct)
    {
        var buffer = NetlinkSocket.RentReceiveBuffer();
        try
        {
            while (!ct.IsCancellationRequested)
            {
                int n;
                try
                {
                    n = await socket.ReceiveAsync(buffer, ct).ConfigureAwait(false);
                }
                catch (NetlinkException e) when (e.Errno == Errno.Enobufs)
                {
                    // Notifications were dropped: only a full re-read is trustworthy now.
                    Counters.CountResync();
                    RequestScan();
                    continue;
                }
                if (Concerns(buffer.AsSpan(0, n), ownPortId))
                    RequestScan();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopping.
        }
        catch (Exception e) when (e is NetlinkException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            // Without notifications the periodic scan still repairs drift, only later.
            _log.LogWarning(e, "{Protocol}: route notifications failed; relying on the periodic scan", Name);
        }
        finally
        {
            NetlinkSocket.ReturnReceiveBuffer(buffer);
        }
    }

    private bool Concerns(ReadOnlySpan<byte> datagram, uint ownPortId)
    {
        foreach (var m in new NetlinkMessageReader(datagram))
        {
            // The kernel stamps a change with the port id of the socket that asked for it: ours are known already.
            if (m.PortId == ownPortId || (m.Type != Rtnl.NewRoute && m.Type != Rtnl.DelRoute))
                continue;
            if (!RouteMessage.TryParse(m.Payload, out var r, out _) || r.Table != KernelTable)
                continue;
            if (r.Protocol == Rtnl.ProtoBird || (_options.Learn && r.Protocol != Rtnl.ProtoKernel))
                return true;
        }
        return false;
    }
}
