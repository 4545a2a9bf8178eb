using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Transport;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Speaker;

/// <summary>
/// The BGP listening socket (BIRD's <c>bgp_listen</c>): accepts TCP connections and hands each to
/// the protocol whose neighbour address is the remote address; anything else is closed and logged
/// (at most once a minute per stranger's address, so a noisy one cannot hide another).
/// </summary>
public sealed class BgpListener : IAsyncDisposable
{
    private const long LogIntervalMs = 60_000;

    /// <summary>Strangers remembered for the log's rate limit; beyond this, a flood of sources is not logged per source.</summary>
    private const int MaxRememberedStrangers = 256;
    private readonly ConcurrentDictionary<IpAddr, BgpProtocol> _protocols = new();
    private readonly IpAddr? _address;
    private readonly ILogger _log;
    private readonly Func<AddressFamily, Socket>? _socketFactory;
    private readonly CancellationTokenSource _cts = new();
    private Socket? _socket;
    private Task? _acceptLoop;
    /// <summary>When each stranger was last logged (<see cref="Environment.TickCount64"/>); the accept loop alone uses it.</summary>
    private readonly Dictionary<IpAddr, long> _lastRejectLog = [];

    public BgpListener(IpAddr? address, int port, ILoggerFactory loggers, Func<AddressFamily, Socket>? socketFactory = null)
    {
        _address = address;
        Port = port;
        _log = loggers.CreateLogger("Calico.Bgp.Speaker.Listener");
        _socketFactory = socketFactory;
    }

    public int Port { get; private set; }

    /// <summary>Opens the socket and starts accepting (<see cref="Open"/> then <see cref="StartAccepting"/>).</summary>
    public void Start()
    {
        Open();
        StartAccepting();
    }

    /// <summary>
    /// Binds and listens (dual-mode IPv6 when no address is given), so a port in use fails here; the
    /// kernel queues connections until <see cref="StartAccepting"/>, which the daemon calls once every
    /// BGP protocol has registered its neighbour (a peer quicker than our start is then not taken for
    /// a stranger and refused).
    /// </summary>
    public void Open()
    {
        if (_socket is not null)
            return;
        var family = _address?.Family ?? AddressFamily.InterNetworkV6;
        var socket = _socketFactory?.Invoke(family) ?? new Socket(family, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (_address is null)
                socket.DualMode = true;
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            SocketSetup.ApplyListenerTtl(socket);
            socket.Bind(new IPEndPoint(_address?.ToIPAddress() ?? IPAddress.IPv6Any, Port));
            socket.Listen(64);
            Port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        _socket = socket;
        foreach (var p in _protocols.Values)
            ApplyPassword(p);
    }

    /// <summary>Whether the accept loop runs.</summary>
    public bool IsAccepting => _acceptLoop is not null;

    /// <summary>Starts taking connections off the socket <see cref="Open"/> made.</summary>
    public void StartAccepting()
    {
        if (_socket is null)
            throw new InvalidOperationException("The listener is not open.");
        _acceptLoop ??= Task.Run(AcceptLoopAsync);
    }

    public void Register(BgpProtocol protocol)
    {
        _protocols[protocol.Options.NeighborAddress] = protocol;
        ApplyPassword(protocol);
    }

    public void Unregister(BgpProtocol protocol)
    {
        if (_protocols.TryRemove(new KeyValuePair<IpAddr, BgpProtocol>(protocol.Options.NeighborAddress, protocol)) && protocol.Options.Password is not null && _socket is { } s)
            SocketSetup.SetMd5(s, protocol.Options.NeighborAddress, null);
    }

    /// <summary>RFC 2385: the listening socket needs the key of every neighbour that uses one.</summary>
    private void ApplyPassword(BgpProtocol p)
    {
        if (p.Options.Password is { } key && _socket is { } s)
            SocketSetup.SetMd5(s, p.Options.NeighborAddress, key);
    }

    private async Task AcceptLoopAsync()
    {
        var ct = _cts.Token;
        while (!ct.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _socket!.AcceptAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                _log.LogWarning("BGP listener: accept failed: {Error}", e.SocketErrorCode);
                continue;
            }
            var remote = (IPEndPoint)client.RemoteEndPoint!;
            var ip = remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4() : remote.Address;
            var addr = IpAddr.FromIPAddress(ip);
            if (_protocols.TryGetValue(addr, out var protocol))
            {
                try
                {
                    SocketSetup.ApplyTtl(client, protocol.Options);
                }
                catch (SocketException)
                {
                    // TTL is best effort on an accepted socket.
                }
                protocol.Accept(client);
                continue;
            }
            if (ShouldLogStranger(addr, Environment.TickCount64))
                _log.LogWarning("BGP: Unexpected connect from unknown address {Address} (port {Port})", addr, remote.Port);
            client.Dispose();
        }
    }

    /// <summary>Whether a refused connect from <paramref name="addr"/> is logged: once a minute per address.</summary>
    private bool ShouldLogStranger(IpAddr addr, long now)
    {
        if (_lastRejectLog.TryGetValue(addr, out var last) && now - last < LogIntervalMs)
            return false;
        if (_lastRejectLog.Count >= MaxRememberedStrangers && !_lastRejectLog.ContainsKey(addr))
        {
            foreach (var (a, t) in _lastRejectLog)
            {
                if (now - t >= LogIntervalMs)
                    _lastRejectLog.Remove(a);
            }
            if (_lastRejectLog.Count >= MaxRememberedStrangers)
                return false;
        }
        _lastRejectLog[addr] = now;
        return true;
    }

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        // The daemon disposes on stop and again when the host disposes it.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await _cts.CancelAsync().ConfigureAwait(false);
        _socket?.Dispose();
        if (_acceptLoop is not null)
            await _acceptLoop.ConfigureAwait(false);
        _cts.Dispose();
    }
}
