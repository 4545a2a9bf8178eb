using System.Net.Sockets;
using Calico.Bgp.Speaker.Session;
using Calico.Bgp.Speaker.Transport;
using Calico.Bgp.Speaker.Wire;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Speaker;

/// <summary>
/// Connection collision detection (RFC 4271 §6.8): while a session is being set up, a second
/// connection from the neighbour runs beside it with an FSM of its own (BIRD's incoming/outgoing
/// pair); once an OPEN shows the neighbour's BGP identifier, one of the two is closed with Cease
/// "Connection collision resolution".
/// </summary>
public sealed partial class BgpProtocol
{
    /// <summary>One TCP connection and the FSM that runs on it.</summary>
    private sealed class Link(BgpConnection connection, BgpFsm fsm)
    {
        public BgpConnection Connection { get; } = connection;
        public BgpFsm Fsm { get; } = fsm;
        /// <summary>Cancels this connection's session loop; set while it runs.</summary>
        public CancellationTokenSource? Cts { get; set; }
        /// <summary>Wakes the session at its FSM's next deadline; set while the session loop runs.</summary>
        public DeadlineTimer? Timer { get; set; }
        /// <summary>The timer's KEEPALIVE still waiting for the socket, if any (one at a time).</summary>
        public Task? Keepalive { get; set; }
        /// <summary>A stop reached this connection: if its session loop has not begun, it never does.</summary>
        public bool Stopped { get; set; }
        /// <summary>
        /// A stop's Cease being written: the session loop waits for it before it frees the
        /// connection, so the Cease cannot be lost to the loop closing first. Set under the
        /// protocol's lock in the step that makes the FSM Idle.
        /// </summary>
        public Task? StopSend { get; set; }
    }

    /// <summary>Collisions resolved since start (each closed one connection).</summary>
    public int CollisionsResolved => Volatile.Read(ref _collisions);

    private int _collisions;

    /// <summary>
    /// Runs the session on <paramref name="primary"/>, accepting the neighbour's connections beside
    /// it until it is Established; when the primary loses a collision (or fails) while the other
    /// connection lives, the other carries on as the session.
    /// </summary>
    private async Task<bool> RunLinksAsync(Link primary, CancellationToken ct)
    {
        lock (_sync)
        {
            _primary = primary;
            _candidate = null;
            _candidateTask = null;
            // A stop that came while this connection was being made: it never starts.
            if (_stopping is { } stop)
                StopLink(primary, stop);
        }
        using var watch = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var watcher = WatchIncomingAsync(watch.Token);
        var established = false;
        var task = RunSessionAsync(primary, ct);
        try
        {
            while (true)
            {
                established |= await task.ConfigureAwait(false);
                lock (_sync)
                {
                    if (ct.IsCancellationRequested || _candidate is not { } next || _candidateTask is null)
                        break;
                    _primary = next;
                    _fsm = next.Fsm;
                    task = _candidateTask;
                    _candidate = null;
                    _candidateTask = null;
                }
            }
        }
        finally
        {
            await watch.CancelAsync().ConfigureAwait(false);
            await watcher.ConfigureAwait(false);
            Task<bool>? orphan;
            CancellationTokenSource? orphanCts;
            lock (_sync)
            {
                orphan = _candidateTask;
                orphanCts = _candidate?.Cts;
                _primary = null;
            }
            CancelQuietly(orphanCts);
            if (orphan is not null)
                established |= await orphan.ConfigureAwait(false);
        }
        return established;
    }

    /// <summary>
    /// Takes the neighbour's connections while the session is being set up. Only one extra
    /// connection at a time, and none once Established (BIRD rejects those too: §6.8 keeps an
    /// Established connection).
    /// </summary>
    private async Task WatchIncomingAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _incoming.ReadAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            bool accept;
            lock (_sync)
                accept = _candidate is null && _primary is { } p && p.Fsm.State is not BgpState.Established;
            var conn = accept ? Adopt(socket, incoming: true) : null;
            if (conn is null)
            {
                _log.LogInformation("{Name}: incoming connection rejected (a session is already up)", Name);
                socket.Dispose();
                continue;
            }
            var link = new Link(conn, NewFsm());
            lock (_sync)
            {
                if (_stopping is { } stop)
                    StopLink(link, stop);
                _candidate = link;
                _candidateTask = Task.Run(() => RunSessionAsync(link, _cts?.Token ?? CancellationToken.None), CancellationToken.None);
            }
        }
    }

    /// <summary>
    /// RFC 4271 §6.8 at the receipt of an OPEN on <paramref name="link"/>: if the other connection
    /// is in OpenConfirm, the one initiated by the dominant speaker (higher BGP identifier, then
    /// higher AS as RFC 6286 §2.3 adds) stays; an Established one always stays. Returns the
    /// connection to close, or null. The same rule as BIRD 1.6's <c>bgp_rx_open</c>.
    /// </summary>
    private Link? ResolveCollision(Link link, OpenMessage open)
    {
        lock (_sync)
        {
            var other = ReferenceEquals(link, _primary) ? _candidate : ReferenceEquals(link, _candidate) ? _primary : null;
            if (other is null)
                return null;
            switch (other.Fsm.State)
            {
                case BgpState.Established:
                    return link;
                case BgpState.OpenConfirm:
                    var neighborDominant = Options.RouterId < open.RouterId || (Options.RouterId == open.RouterId && Options.LocalAs < Options.PeerAs);
                    return neighborDominant == link.Connection.Incoming ? other : link;
                default:
                    return null;
            }
        }
    }

    /// <summary>Sends Cease / Connection collision resolution (RFC 4486 §4, subcode 7) and drops the connection.</summary>
    private async Task CloseForCollisionAsync(Link loser)
    {
        Interlocked.Increment(ref _collisions);
        _log.LogInformation("{Name}: connection collision, closing the {Which} connection", Name, loser.Connection.Incoming ? "incoming" : "outgoing");
        StopSend send;
        lock (_sync)
            send = StopLink(loser, new FsmEvent(FsmEventKind.ManualStop, StopSubcode: CeaseSubcode.ConnectionCollisionResolution));
        await SendStopAsync(loser, send).ConfigureAwait(false);
        CancellationTokenSource? cts;
        lock (_sync)
            cts = loser.Cts;
        CancelQuietly(cts);
    }

    /// <summary>A stop's actions for one connection, and what tells its session loop they are done.</summary>
    private readonly record struct StopSend(FsmAction[] Actions, TaskCompletionSource? Done);

    /// <summary>
    /// Feeds a stop to <paramref name="link"/>'s FSM; when it asks for a Cease (RFC 4271 §8.2.2,
    /// ManualStop in OpenSent, OpenConfirm and Established), marks the write as under way on the
    /// link. Called under the protocol's lock, so the FSM's Idle and the mark come in one step: a
    /// message the session loop reads next finds the FSM Idle, and if that makes the loop close the
    /// connection, the loop waits for the Cease (<see cref="SendStopAsync"/>) before freeing it.
    /// </summary>
    private static StopSend StopLink(Link link, FsmEvent stop)
    {
        link.Stopped = true;
        FsmAction[] actions = [.. link.Fsm.Handle(stop)];
        if (!actions.Any(a => a.Kind == FsmActionKind.SendNotification))
            return new StopSend(actions, null);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        link.StopSend = done.Task;
        return new StopSend(actions, done);
    }

    /// <summary>
    /// Writes a stop's Cease, then lets the session loop free the connection. A peer that takes
    /// nothing holds it up for a few seconds at most, as <see cref="BgpConnection.DisposeAsync"/>
    /// waits for a writer, not for ever.
    /// </summary>
    private async Task SendStopAsync(Link link, StopSend send)
    {
        try
        {
            using var bound = new CancellationTokenSource(StopSendWait);
            await ExecuteAsync(link, send.Actions, bound.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            // The connection went away first.
        }
        finally
        {
            send.Done?.TrySetResult();
        }
    }

    private static readonly TimeSpan StopSendWait = TimeSpan.FromSeconds(5);

    private static void CancelQuietly(CancellationTokenSource? cts)
    {
        try
        {
            cts?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Its loop ended meanwhile.
        }
    }
}
