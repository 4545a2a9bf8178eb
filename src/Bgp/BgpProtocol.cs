using System.Net;
using System.Net.Sockets;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Export;
using Calico.Bgp.Speaker.Session;
using Calico.Bgp.Speaker.Transport;
using Calico.Bgp.Speaker.Wire;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Speaker;

/// <summary>
/// A BGP session with one neighbour (BIRD's <c>protocol bgp</c>): connects (or waits for the
/// neighbour through a <see cref="BgpListener"/>), runs the FSM, imports received routes into the
/// table and exports the table's best routes.
/// </summary>
public sealed partial class BgpProtocol : Protocol
{
    private readonly ILogger _log;
    private readonly BgpListener? _listener;
    private readonly Lock _sync = new();
    private readonly ConnectionInbox _incoming = new();
    private readonly Backoff _backoff;
    private readonly UpdateGroupRegistry _groups;
    private readonly DeadlineScheduler _timers;
    // The FSM shown by Info/Snapshot: the one connecting, or the primary connection's.
    private BgpFsm _fsm;
    private CancellationTokenSource? _cts;
    private Task? _loop;
    // BIRD's outgoing/incoming pair: the connection the session runs on, and while the race of
    // RFC 4271 §6.8 lasts, the second one (with its own FSM) until collision resolution closes one.
    private Link? _primary;
    private Link? _candidate;
    private Task<bool>? _candidateTask;
    // The stop under way (from StopAsync until the next start): a connection that becomes the
    // session's or its rival meanwhile is stopped as it is taken on.
    private FsmEvent? _stopping;
    private bool _peerGracefulRestart;
    private DateTimeOffset? _restartDeadline;
    // BIRD's startup timer: while set, the protocol waits out an error wait (until, total seconds).
    private (DateTimeOffset Until, int Seconds)? _errorWait;

    public BgpProtocol(BgpProtocolOptions options, RoutingTable table, TimeProvider time, ILoggerFactory loggers, BgpListener? listener)
        : this(options, table, time, loggers, listener, null)
    {
    }

    /// <summary>
    /// Creates the protocol; BGP protocols of one daemon that are given the same
    /// <paramref name="updateGroups"/> share UPDATE encoding with every peer of the same export
    /// policy. Without one, this protocol is a group of its own.
    /// </summary>
    public BgpProtocol(BgpProtocolOptions options, RoutingTable table, TimeProvider time, ILoggerFactory loggers, BgpListener? listener, UpdateGroupRegistry? updateGroups)
        : this(options, table, time, loggers, listener, updateGroups, null)
    {
    }

    /// <summary>
    /// Creates the protocol; its sessions' timers run in <paramref name="sessionTimers"/>, which a
    /// daemon shares among all its BGP protocols (one timer for every session). Without one, the
    /// protocol has a scheduler of its own. The scheduler must run on <paramref name="time"/>.
    /// </summary>
    public BgpProtocol(BgpProtocolOptions options, RoutingTable table, TimeProvider time, ILoggerFactory loggers, BgpListener? listener, UpdateGroupRegistry? updateGroups, DeadlineScheduler? sessionTimers)
        : base(options.Name, table, time, options.Preference)
    {
        if (sessionTimers is not null && !ReferenceEquals(sessionTimers.Time, time))
            throw new ArgumentException("The session timers must run on the protocol's clock.", nameof(sessionTimers));
        _timers = sessionTimers ?? new DeadlineScheduler(time);
        Options = options;
        _log = loggers.CreateLogger("Calico.Bgp.Speaker." + options.Name);
        Trace = new ProtocolTrace(loggers);
        _listener = listener;
        _groups = updateGroups ?? new UpdateGroupRegistry();
        _backoff = new Backoff(options.ConnectDelayTime, options.ErrorWaitMin, options.ErrorWaitMax);
        _fsm = NewFsm();
        _adjRibIn = new AdjRibIn(table, this, MirrorsAdjRibIn(options.ImportFilter));
    }

    /// <summary>
    /// Whether the table's routes of this protocol can stand for the Adj-RIB-In: the import filter
    /// accepts every path unchanged, and no import limit keeps received paths out of the table.
    /// </summary>
    private bool MirrorsAdjRibIn(RouteFilter importFilter) => ReferenceEquals(importFilter, RouteFilter.AcceptAll) && Options.ImportLimit is null;

    private BgpFsm NewFsm() =>
        new(new FsmConfig
        {
            LocalAs = Options.LocalAs,
            PeerAs = Options.PeerAs,
            RouterId = Options.RouterId,
            HoldTime = Options.HoldTime,
            KeepaliveTime = Options.KeepaliveTime,
            ConnectRetryTime = Options.ConnectRetryTime,
            StartupHoldTime = Options.StartupHoldTime,
            SendHoldTime = Options.SendHoldTime,
            Passive = Options.Passive,
            ConnectDelayTime = Options.ConnectDelayTime,
            Capabilities = LocalCapabilities(Options),
        }, Time)
        {
            StateChanged = TraceBgpState,
            TimerExpired = TraceTimer,
        };

    /// <summary>The options; a reload may replace the filters in place (<see cref="Reconfigure"/>).</summary>
    public BgpProtocolOptions Options { get; private set; }
    public override string TypeName => "BGP";
    public bool IsInternal => Options.IsInternal;

    /// <summary>Messages, bytes and NOTIFICATIONs each way, and Established transitions, over all sessions.</summary>
    public BgpMessageStats Messages { get; } = new();

    /// <summary>The BGP state (the FSM's), read without locking for display.</summary>
    public BgpState BgpState
    {
        get
        {
            lock (_sync)
                return _fsm.State;
        }
    }

    /// <summary>
    /// The OPEN of the session now (a new object per session), read without the lock: an update
    /// group's memo of the export rules' answers keys on it (<see cref="Export.UpdateGroup"/>).
    /// </summary>
    internal OpenMessage? PeerOpenForExport => _fsm.PeerOpen;

    public override BgpPeerIdentity? BgpPeer
    {
        get
        {
            lock (_sync)
                return new BgpPeerIdentity(Options.NeighborAddress, _fsm.PeerOpen?.RouterId ?? 0, !Options.IsInternal);
        }
    }

    /// <summary>BIRD 1.6's info column: state padded to 14, then the last error (<c>bgp_get_status</c>).</summary>
    public override string Info
    {
        get
        {
            lock (_sync)
            {
                var error = _fsm.LastError ?? "";
                if (State == ProtocolState.Down)
                    return error;
                return (StateName(_fsm.State) + (error.Length > 0 ? new string(' ', Math.Max(1, 14 - StateName(_fsm.State).Length)) + error : "")).TrimEnd();
            }
        }
    }

    private string StateName(BgpState s) => s == BgpState.Idle && Options.Passive || s == BgpState.Active && Options.Passive ? "Passive" : s.ToString();

    /// <summary>The capabilities we advertise, from the options (RFC 4760, 6793, 2918, 4724, 7911).</summary>
    /// <remarks>
    /// One instance per distinct set of inputs, shared by every protocol that has them (a set is
    /// never changed once made): a thousand neighbours from one template hold one, not a thousand of
    /// some 400 bytes each (bench/RESULTS-perf.md, eighth round).
    /// </remarks>
    public static CapabilitySet LocalCapabilities(BgpProtocolOptions o) =>
        SharedLocalCapabilities.GetOrAdd((o.Ipv4, o.Ipv6, o.AddPaths, o.LocalAs, o.GracefulRestart, o.GracefulRestartTime), BuildLocalCapabilities);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(bool Ipv4, bool Ipv6, AddPathMode AddPaths, uint LocalAs, bool GracefulRestart, int GracefulRestartTime), CapabilitySet> SharedLocalCapabilities = new();

    private static CapabilitySet BuildLocalCapabilities((bool Ipv4, bool Ipv6, AddPathMode AddPaths, uint LocalAs, bool GracefulRestart, int GracefulRestartTime) o)
    {
        var families = new List<AfiSafi>();
        if (o.Ipv4)
            families.Add(AfiSafi.Ipv4Unicast);
        if (o.Ipv6)
            families.Add(AfiSafi.Ipv6Unicast);
        var addPath = new Dictionary<AfiSafi, AddPathMode>();
        if (o.AddPaths != AddPathMode.None)
        {
            foreach (var f in families)
                addPath[f] = o.AddPaths;
        }
        return new CapabilitySet
        {
            Families = families,
            RouteRefresh = true,
            FourOctetAs = o.LocalAs,
            GracefulRestart = o.GracefulRestart,
            GracefulRestartTime = o.GracefulRestartTime,
            GracefulRestartFamilies = o.GracefulRestart ? families : [],
            AddPath = addPath,
        };
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            if (_loop is not null)
                return Task.CompletedTask;
            _cts = new CancellationTokenSource();
            _stopping = null;
            _fsm.ClearError();
            SetState(ProtocolState.Start);
            _listener?.Register(this);
            WatchNextHops();
            _loop = Task.Run(() => RunAsync(_cts.Token), CancellationToken.None);
        }
        return Task.CompletedTask;
    }

    /// <summary>Stops with Cease "Administrative shutdown", or "Administrative reset" when <paramref name="restart"/>.</summary>
    public Task StopAsync(bool restart, CancellationToken cancellationToken) => StopAsync(restart, null, cancellationToken);

    /// <summary>
    /// <c>disable</c> / <c>restart</c> with the operator's <paramref name="message"/>: Cease
    /// "Administrative shutdown" (6/2) or "Administrative reset" (6/4) carrying it as an RFC 9003
    /// shutdown communication, as BIRD's <c>bgp_shutdown</c> does.
    /// </summary>
    public Task StopAsync(bool restart, string? message, CancellationToken cancellationToken) =>
        StopAsync(restart ? CeaseSubcode.AdministrativeReset : CeaseSubcode.AdministrativeShutdown,
            message is null ? default : ShutdownCommunication.Encode(message), null, cancellationToken);

    /// <summary>
    /// Stops, telling an Established (or opening) neighbour why with a Cease NOTIFICATION of
    /// <paramref name="subcode"/> (RFC 4486 §4): "Peer De-configured" (3) for a protocol removed from
    /// the config, "Other Configuration Change" (6) for one restarted by a reload, as BIRD's
    /// <c>bgp_shutdown</c> chooses. Like BIRD (<c>BE_MAN_DOWN</c>) the protocol then shows no last error.
    /// </summary>
    public Task StopAsync(CeaseSubcode subcode, CancellationToken cancellationToken) => StopAsync(subcode, default, null, cancellationToken);

    /// <summary>
    /// The stop of <see cref="StopAsync(CeaseSubcode, CancellationToken)"/>, the Cease carrying
    /// <paramref name="data"/>. <paramref name="downError"/> is null for a stop on request (BIRD's
    /// manual down: no error shown), or the reason of an automatic one, which the protocol shows
    /// from the instant it is Down.
    /// </summary>
    private async Task StopAsync(CeaseSubcode subcode, ReadOnlyMemory<byte> data, string? downError, CancellationToken cancellationToken)
    {
        Task? loop;
        List<(Link Link, StopSend Send)> sends = [];
        lock (_sync)
        {
            loop = _loop;
            _loop = null;
            if (loop is not null)
            {
                // RFC 4271 §8.2.2 ManualStop on each connection (the session's, and a second one
                // racing it, §6.8): its FSM goes Idle in the step that marks its Cease as under way,
                // which its session loop then waits for before it frees the connection.
                var stop = new FsmEvent(FsmEventKind.ManualStop, StopSubcode: subcode, StopData: data);
                _stopping = stop;
                foreach (var link in (ReadOnlySpan<Link?>)[_primary, _candidate])
                {
                    if (link is not null)
                        sends.Add((link, StopLink(link, stop)));
                }
            }
        }
        try
        {
            _listener?.Unregister(this);
            // BIRD's bgp_shutdown traces it before the Cease goes out.
            if (loop is not null)
                TraceEvent(ProtocolEvents.ShutdownRequested, "Shutdown requested");
        }
        finally
        {
            // The Ceases go before the sessions are cancelled, so an UPDATE being written is
            // finished first rather than cut short.
            foreach (var (link, send) in sends)
                await SendStopAsync(link, send).ConfigureAwait(false);
        }
        if (loop is null)
            return;
        await _cts!.CancelAsync().ConfigureAwait(false);
        try
        {
            await loop.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping anyway.
        }
        catch (TimeoutException)
        {
            _log.LogWarning("{Name}: session loop did not stop in time", Name);
        }
        lock (_adjRibIn.Sync)
        {
            StopWatchingNextHops();
            _nextHopsUsed.Clear();
            _adjRibIn.Clear();
            Table.WithdrawAll(this);
        }
        Stats.ResetRouteCounts();
        lock (_sync)
        {
            // The FSM of a connection that never came is still Connect/Active: stopped too.
            if (_fsm.State != BgpState.Idle)
                _fsm.Handle(new FsmEvent(FsmEventKind.ManualStop, StopSubcode: subcode));
            // BIRD's "manual down": a stop on request records no error to show; an automatic one
            // records why. Either is set with Down under the lock Info reads under, so no reader
            // sees the protocol Down with the error not yet there.
            if (downError is null)
                _fsm.ClearError();
            else
                _fsm.StoreError(downError);
            _peerGracefulRestart = _staleV4 = _staleV6 = false;
            _restartDeadline = null;
            SetState(ProtocolState.Down);
        }
    }

    public override Task StopAsync(CancellationToken cancellationToken) => StopAsync(false, cancellationToken);

    /// <summary>Called by the listener with an accepted connection from our neighbour.</summary>
    internal void Accept(Socket socket)
    {
        if (!_incoming.TryWrite(socket))
            socket.Dispose();
    }

    private async Task RunAsync(CancellationToken ct)
    {
        try
        {
            // The connect delay is the FSM's (BIRD's bgp_active): Active, then Connect.
            while (!ct.IsCancellationRequested)
            {
                var conn = await EstablishTcpAsync(ct).ConfigureAwait(false);
                var reachedEstablished = false;
                if (conn is not null)
                    reachedEstablished = await RunLinksAsync(new Link(conn, _fsm), ct).ConfigureAwait(false);
                SessionDown();
                if (ct.IsCancellationRequested)
                    break;
                if (reachedEstablished)
                    _backoff.Reset();
                // BIRD's error wait time: back off before the next attempt, doubling per failure.
                var wait = _backoff.NextErrorWait();
                if (Trace.Events.IsEnabled(LogLevel.Debug))
                    TraceEvent(ProtocolEvents.TimerExpired, $"Startup delayed by {(int)wait.TotalSeconds} seconds due to errors");
                lock (_sync)
                    _errorWait = (Time.GetUtcNow() + wait, (int)wait.TotalSeconds);
                try
                {
                    await WaitOrAcceptAsync(wait, ct).ConfigureAwait(false);
                }
                finally
                {
                    lock (_sync)
                        _errorWait = null;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopped.
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _log.LogError(e, "{Name}: session loop failed", Name);
        }
    }

    /// <summary>Waits out an error wait; an incoming connection is dropped meanwhile, as BIRD does.</summary>
    private async Task WaitOrAcceptAsync(TimeSpan wait, CancellationToken ct)
    {
        var until = Time.GetUtcNow() + wait;
        while (Time.GetUtcNow() < until)
        {
            using var slice = CancellationTokenSource.CreateLinkedTokenSource(ct);
            slice.CancelAfter(until - Time.GetUtcNow());
            try
            {
                var s = await _incoming.ReadAsync(slice.Token).ConfigureAwait(false);
                s.Dispose();
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>Idle → Connect/Active until a TCP connection exists (ours or the neighbour's).</summary>
    private async Task<BgpConnection?> EstablishTcpAsync(CancellationToken ct)
    {
        IReadOnlyList<FsmAction> actions;
        lock (_sync)
            actions = [.. _fsm.Handle(FsmEventKind.ManualStart)];
        var connect = actions.Any(a => a.Kind == FsmActionKind.Connect);
        while (!ct.IsCancellationRequested)
        {
            if (_incoming.TryRead(out var inSock))
                return Adopt(inSock, incoming: true);
            if (connect)
            {
                connect = false;
                var (sock, error) = await ConnectAsync(ct).ConfigureAwait(false);
                if (sock is not null)
                    return Adopt(sock, incoming: false);
                lock (_sync)
                    _fsm.Handle(new FsmEvent(FsmEventKind.TcpConnectionFails, Reason: error));
            }
            DateTimeOffset? deadline;
            lock (_sync)
                deadline = _fsm.ConnectRetryDeadline;
            using var slice = CancellationTokenSource.CreateLinkedTokenSource(ct);
            if (deadline is { } d)
                slice.CancelAfter(TimeSpan.FromTicks(Math.Max(0, (d - Time.GetUtcNow()).Ticks)));
            try
            {
                var s = await _incoming.ReadAsync(slice.Token).ConfigureAwait(false);
                return Adopt(s, incoming: true);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                lock (_sync)
                    connect = _fsm.Tick().Any(a => a.Kind == FsmActionKind.Connect);
            }
        }
        return null;
    }

    private BgpConnection? Adopt(Socket socket, bool incoming)
    {
        try
        {
            var conn = new BgpConnection(socket, incoming, Messages, Time) { PacketLog = Trace.Packets, ProtocolName = Name };
            if (Trace.Events.IsEnabled(LogLevel.Debug))
            {
                TraceEvent(ProtocolEvents.Connected, incoming
                    ? $"Incoming connection from {conn.RemoteAddress} accepted"
                    : $"Connected to {conn.RemoteAddress} from local address {conn.LocalAddress}");
            }
            return conn;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
            socket.Dispose();
            return null;
        }
    }

    private async Task<(Socket? Socket, string? Error)> ConnectAsync(CancellationToken ct)
    {
        var family = Options.NeighborAddress.Family;
        var socket = Options.SocketFactory?.Invoke(family) ?? new Socket(family, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            SocketSetup.ApplyTtl(socket, Options);
            if (Options.Password is not null)
                SocketSetup.SetMd5(socket, Options.NeighborAddress, Options.Password);
            if (Options.SourceAddress is { } src)
                socket.Bind(new IPEndPoint(src.ToIPAddress(), 0));
            if (Trace.Events.IsEnabled(LogLevel.Debug))
                TraceEvent(ProtocolEvents.Connecting, $"Connecting to {Options.NeighborAddress}" + (Options.SourceAddress is { } from ? $" from local address {from}" : ""));
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(Options.ConnectRetryTime));
            await socket.ConnectAsync(new IPEndPoint(Options.NeighborAddress.ToIPAddress(), Options.NeighborPort), timeout.Token).ConfigureAwait(false);
            return (socket, null);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            return (null, SocketErrorText(e.SocketErrorCode));
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            socket.Dispose();
            return (null, "Connection timed out");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>strerror() wording, as BIRD prints after "Socket: ".</summary>
    internal static string SocketErrorText(SocketError e) => e switch
    {
        SocketError.ConnectionRefused => "Connection refused",
        SocketError.ConnectionReset => "Connection reset by peer",
        SocketError.TimedOut => "Connection timed out",
        SocketError.HostUnreachable => "No route to host",
        SocketError.NetworkUnreachable => "Network is unreachable",
        SocketError.AddressNotAvailable => "Cannot assign requested address",
        _ => e.ToString(),
    };
}
