using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Fib.Interfaces;

/// <summary>A <c>protocol device</c> block.</summary>
public sealed record DeviceProtocolOptions
{
    public required string Name { get; init; }
    /// <summary><c>scan time</c>, seconds.</summary>
    public int ScanTime { get; init; } = 60;
}

/// <summary>
/// BIRD's device protocol: keeps the list of interfaces and their addresses, re-read every
/// <c>scan time</c>. It puts no routes in the table; <see cref="Interfaces"/> feeds
/// <c>show interfaces</c>.
/// </summary>
public sealed class DeviceProtocol : Protocol
{
    private readonly DeviceProtocolOptions _options;
    private readonly ILogger _log;
    private readonly Func<IRouteNetlink> _openNetlink;
    private IRouteNetlink? _netlink;
    private CancellationTokenSource? _stop;
    private Task? _loop;
    private volatile InterfaceSnapshot _interfaces = InterfaceSnapshot.Empty;

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
    }

    public override string TypeName => "Device";

    /// <summary>The interfaces as last read; a consistent snapshot, safe to read from any thread.</summary>
    public InterfaceSnapshot Interfaces => _interfaces;

    /// <summary>Raised on the scan loop after a scan changed the interface list.</summary>
    public event Action<InterfaceSnapshot>? Changed;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        SetState(ProtocolState.Start);
        _netlink = _openNetlink();
        _interfaces = await InterfaceSnapshot.LoadAsync(_netlink, cancellationToken).ConfigureAwait(false);
        _stop = new CancellationTokenSource();
        SetState(ProtocolState.Up);
        _loop = Task.Run(() => ScanLoopAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>Re-reads the interfaces now.</summary>
    public async Task ScanAsync(CancellationToken cancellationToken)
    {
        var next = await InterfaceSnapshot.LoadAsync(_netlink ?? throw new InvalidOperationException($"{Name} is not running"), cancellationToken).ConfigureAwait(false);
        var old = _interfaces;
        _interfaces = next;
        if (!old.Interfaces.SequenceEqual(next.Interfaces, InterfaceComparer.Instance))
            Changed?.Invoke(next);
    }

    private async Task ScanLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(Math.Max(1, _options.ScanTime)), Time, ct).ConfigureAwait(false);
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
