using Calico.Bgp.Fib.Netlink;

namespace Calico.Bgp.Fib.Tests;

/// <summary>
/// Records every route notification of one family in a namespace (our own socket joined to
/// RTNLGRP_IPV4_ROUTE / RTNLGRP_IPV6_ROUTE), like <c>ip monitor route</c>.
/// </summary>
internal sealed class RouteMonitor : IAsyncDisposable
{
    private readonly NetlinkSocket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Lock _lock = new();
    private readonly List<(ushort Type, KernelRouteSpec Route)> _events = [];

    public RouteMonitor(string netns, bool ipv6 = false)
    {
        _socket = NetlinkSocket.Open(netns, [ipv6 ? Rtnl.GroupIpv6Route : Rtnl.GroupIpv4Route]);
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Notifications so far: RTM_NEWROUTE or RTM_DELROUTE with the route.</summary>
    public IReadOnlyList<(ushort Type, KernelRouteSpec Route)> Events
    {
        get
        {
            lock (_lock)
                return [.. _events];
        }
    }

    public IEnumerable<string> Describe() => Events.Select(e => $"{(e.Type == Rtnl.NewRoute ? "add" : "del")} {e.Route}");

    private async Task RunAsync()
    {
        var buffer = NetlinkSocket.RentReceiveBuffer();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var n = await _socket.ReceiveAsync(buffer, _stop.Token);
                lock (_lock)
                {
                    foreach (var m in new NetlinkMessageReader(buffer.AsSpan(0, n)))
                    {
                        if ((m.Type == Rtnl.NewRoute || m.Type == Rtnl.DelRoute) && RouteMessage.TryParse(m.Payload, out var r))
                            _events.Add((m.Type, r));
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
        finally
        {
            NetlinkSocket.ReturnReceiveBuffer(buffer);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _socket.Dispose();
        _stop.Dispose();
    }
}
