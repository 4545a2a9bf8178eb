using System.Threading.Channels;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Fib.Interfaces;

/// <summary>A <c>protocol device</c> block.</summary>
public sealed record DeviceProtocolOptions
{
    public required string Name { get; init; }
    /// <summary><c>scan time</c>, seconds: the safety-net re-read; notifications drive it otherwise.</summary>
    public int ScanTime { get; init; } = 60;
    /// <summary>Listen to RTNLGRP_LINK and RTNLGRP_IPV4/IPV6_IFADDR, so changes are seen at once.</summary>
    public bool Notifications { get; init; } = true;
}

/// <summary>
/// BIRD's device protocol: keeps the list of interfaces and their addresses. It listens to link and
/// address notifications (re-reading the interfaces when one arrives, or when notifications were
/// lost) and re-reads every <c>scan time</c> as a safety net. It puts no routes in the table;
/// <see cref="Interfaces"/> feeds <c>show interfaces</c>, and as an <see cref="IInterfaceSource"/>
/// it drives the direct, static and kernel protocols.
/// </summary>
public sealed class DeviceProtocol : Protocol, IInterfaceSource
{
    private readonly DeviceProtocolOptions _options;
    private readonly ILogger _log;
    private readonly Func<IRouteNetlink> _openNetlink;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });
    private readonly SemaphoreSlim _scanGate = new(1, 1);
    // Under _scanGate.
    private readonly UnchangedInterfacesCheck _check = new();
    private IRouteNetlink? _netlink;
    private INetlinkListener? _notifications;
    private CancellationTokenSource? _stop;
    private Task? _loop;
    private Task? _listener;
    private volatile InterfaceSnapshot _interfaces = InterfaceSnapshot.Empty;
    private long _notificationScans;
    private long _overruns;

    public DeviceProtocol(DeviceProtocolOptions options, RoutingTable table, TimeProvider time, ILoggerFactory loggers, string? netns = null)
        : this(options, table, time, loggers, () => RtNetlinkClient.Open(netns))
    {
    }

    public DeviceProtocol(DeviceProtocolOptions options, RoutingTable table, TimeProvider time, ILoggerFactory loggers, Func<IRouteNetlink> openNetlink)
        : base(options.Name, table, time, 240)
    {
        _options = options;
        _openNetlink = openNetlink;
        _log = loggers.CreateLogger("Calico.Bgp.Fib.Device");
        Trace = new ProtocolTrace(loggers);
    }

    public override string TypeName => "Device";

    /// <summary>The interfaces as last read; a consistent snapshot, safe to read from any thread.</summary>
    public InterfaceSnapshot Interfaces => _interfaces;

    /// <summary>Re-reads caused by notifications (not by the timer).</summary>
    public long NotificationScans => Interlocked.Read(ref _notificationScans);

    /// <summary>Times notifications were lost (ENOBUFS) and a full re-read made up for them.</summary>
    public long Overruns => Interlocked.Read(ref _overruns);

    /// <summary>Raised after a read changed the interface list (on start with the first list, too).</summary>
    public event Action<InterfaceSnapshot>? Changed;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        SetState(ProtocolState.Start);
        _netlink = _openNetlink();
        try
        {
            // Listen before the first read, so a change between the read and the listening is not missed.
            if (_options.Notifications)
                _notifications = _netlink.OpenListener([Rtnl.GroupLink, Rtnl.GroupIpv4Ifaddr, Rtnl.GroupIpv6Ifaddr]);
            _interfaces = await InterfaceSnapshot.LoadAsync(_netlink, cancellationToken).ConfigureAwait(false);
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
        _stop = new CancellationTokenSource();
        SetState(ProtocolState.Up);
        if (Trace.Interfaces.IsEnabled(LogLevel.Debug))
            InterfaceTrace.Write(Trace.Interfaces, Name, InterfaceSnapshot.Empty, _interfaces);
        Changed?.Invoke(_interfaces);
        if (_notifications is { } listener)
            _listener = Task.Run(() => ListenAsync(listener, _stop.Token), CancellationToken.None);
        _loop = Task.Run(() => ScanLoopAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>Re-reads the interfaces now.</summary>
    public async Task ScanAsync(CancellationToken cancellationToken)
    {
        var netlink = _netlink ?? throw new InvalidOperationException($"{Name} is not running");
        if (Trace.Events.IsEnabled(LogLevel.Debug))
            Trace.Events.LogDebug(ProtocolEvents.Scan, "{Protocol}: Scanning interfaces", Name);
        // One read at a time, so an older read never overwrites a newer one.
        await _scanGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var old = _interfaces;
            var next = await InterfaceSnapshot.ReloadAsync(netlink, old, _check, cancellationToken).ConfigureAwait(false);
            _interfaces = next;
            if (!ReferenceEquals(old, next) && !old.Interfaces.SequenceEqual(next.Interfaces, InterfaceComparer.Instance))
            {
                if (Trace.Interfaces.IsEnabled(LogLevel.Debug))
                    InterfaceTrace.Write(Trace.Interfaces, Name, old, next);
                Changed?.Invoke(next);
            }
        }
        finally
        {
            _scanGate.Release();
        }
    }

    private async Task ScanLoopAsync(CancellationToken ct)
    {
        var every = TimeSpan.FromSeconds(Math.Max(1, _options.ScanTime));
        Task? delay = null;
        Task<bool>? woken = null;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                delay ??= Task.Delay(every, Time, ct);
                woken ??= _wake.Reader.WaitToReadAsync(ct).AsTask();
                await Task.WhenAny(delay, woken).ConfigureAwait(false);
                ct.ThrowIfCancellationRequested();
                if (woken.IsCompleted)
                {
                    _wake.Reader.TryRead(out _);
                    woken = null;
                    Interlocked.Increment(ref _notificationScans);
                }
                if (delay.IsCompleted)
                    delay = null;
                await ScanAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NetlinkException or IOException or System.Net.Sockets.SocketException)
            {
                _log.LogWarning(e, "{Protocol}: interface scan failed", Name);
            }
        }
    }

    /// <summary>Wakes the scan loop for each burst of link or address notifications.</summary>
    private async Task ListenAsync(INetlinkListener socket, CancellationToken ct)
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
                    Interlocked.Increment(ref _overruns);
                    _wake.Writer.TryWrite(true);
                    continue;
                }
                if (Concerns(buffer.AsSpan(0, n), _interfaces))
                    _wake.Writer.TryWrite(true);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopping.
        }
        catch (Exception e) when (e is NetlinkException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            _log.LogWarning(e, "{Protocol}: interface notifications failed; relying on the periodic scan", Name);
        }
        finally
        {
            NetlinkSocket.ReturnReceiveBuffer(buffer);
        }
    }

    /// <summary>
    /// Whether a datagram holds a link change, or an address change on an interface that is not
    /// known to be admin-down: Calico's fork ignores address updates on admin-down interfaces
    /// (kube-ipvs0 carries thousands of them), and bringing the interface up is a link change anyway.
    /// </summary>
    internal static bool Concerns(ReadOnlySpan<byte> datagram, InterfaceSnapshot current)
    {
        foreach (var m in new NetlinkMessageReader(datagram))
        {
            switch (m.Type)
            {
                case Rtnl.NewLink or Rtnl.DelLink:
                    return true;
                case Rtnl.NewAddr or Rtnl.DelAddr:
                    if (!AddressMessage.TryParse(m.Payload, out var a) || current.ByIndex(a.InterfaceIndex) is not { IsUp: false })
                        return true;
                    break;
            }
        }
        return false;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        SetState(ProtocolState.Stop);
        if (_stop is not null)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            foreach (var task in new[] { _loop, _listener })
            {
                if (task is not null)
                    await task.ConfigureAwait(false);
            }
            _stop.Dispose();
            _stop = null;
        }
        _loop = null;
        _listener = null;
        _notifications?.Dispose();
        _notifications = null;
        _netlink?.Dispose();
        _netlink = null;
        SetState(ProtocolState.Down);
    }

    /// <summary>Interface states compare by value, addresses included.</summary>
    internal sealed class InterfaceComparer : IEqualityComparer<InterfaceState>
    {
        public static readonly InterfaceComparer Instance = new();

        public bool Equals(InterfaceState? x, InterfaceState? y) =>
            x is not null && y is not null && x.Index == y.Index && x.Name == y.Name && x.Flags == y.Flags && x.Mtu == y.Mtu
            && x.Addresses.SequenceEqual(y.Addresses);

        public int GetHashCode(InterfaceState obj) => HashCode.Combine(obj.Index, obj.Name, obj.Flags);
    }
}
