using System.Buffers;
using System.Runtime.CompilerServices;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Session;
using Calico.Bgp.Speaker.Transport;
using Calico.Bgp.Speaker.Wire;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Speaker;

public sealed partial class BgpProtocol
{
    /// <summary>Runs one connection from TCP up to close; returns whether it reached Established.</summary>
    private async Task<bool> RunSessionAsync(Link link, CancellationToken outer)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(outer);
        var conn = link.Connection;
        var fsm = link.Fsm;
        var ct = cts.Token;
        var established = false;
        Task? exporter = null;
        try
        {
            SocketSetupAfterConnect(conn);
            IReadOnlyList<FsmAction> actions;
            lock (_sync)
            {
                link.Cts = cts;
                // Stopped before it began: no OPEN goes out.
                if (link.Stopped)
                    return false;
                actions = [.. fsm.Handle(FsmEventKind.TcpConnectionConfirmed)];
            }
            if (!await ExecuteAsync(link, actions, ct).ConfigureAwait(false))
                return false;
            StartTimers(link);
            var max = BgpConstants.MaxExtendedMessageLength;
            var receivedAtYield = Stats.ImportUpdatesReceived + Stats.ImportWithdrawsReceived;
            while (!ct.IsCancellationRequested)
            {
                var result = await conn.Reader.ReadAsync(ct).ConfigureAwait(false);
                var buffer = result.Buffer;
                var keepGoing = true;
                while (keepGoing)
                {
                    BgpCodec codec;
                    lock (_sync)
                        codec = fsm.Codec;
                    max = codec.MaxMessageLength;
                    if (!FrameReader.TryRead(ref buffer, max, out var frame, out var headerError))
                    {
                        if (headerError is { } he)
                        {
                            await FeedAsync(link, new FsmEvent(FsmEventKind.BgpHeaderErr, Error: he), ct).ConfigureAwait(false);
                            return established;
                        }
                        break;
                    }
                    Messages.CountReceived(frame.Type, BgpConstants.HeaderLength + (int)frame.Body.Length);
                    TracePacket(Trace.Packets, Name, false, frame.Type, BgpConstants.HeaderLength + (int)frame.Body.Length);
                    var outcome = await HandleFrameAsync(link, frame, codec, ct).ConfigureAwait(false);
                    if (outcome == FrameOutcome.Established && exporter is null)
                    {
                        established = true;
                        OnEstablished(link);
                        SetState(Rib.ProtocolState.Up);
                        exporter = Task.Run(() => ExportLoopAsync(link, ct), CancellationToken.None);
                    }
                    keepGoing = outcome != FrameOutcome.Closed;
                    if (!keepGoing)
                    {
                        conn.Reader.AdvanceTo(buffer.Start, buffer.End);
                        return established;
                    }
                    // After every YieldLag routes of this peer's, the table's readers (update groups,
                    // the kernel) run before the next UPDATE if they are behind (RoutingTable.ReadersBehind):
                    // on one core they otherwise ran only once the socket was drained or the cork reached.
                    // Counted per peer: a reflector's thousand clients sending a few routes each would
                    // otherwise each yield, and cut the groups' passes into many small ones (a pass costs
                    // a write to every member: P2 K=1000 took a quarter longer).
                    if (frame.Type == MessageType.Update
                        && Stats.ImportUpdatesReceived + Stats.ImportWithdrawsReceived is var received
                        && received - receivedAtYield > RoutingTable.YieldLag
                        && Table.ReadersBehind)
                    {
                        receivedAtYield = received;
                        await Task.Yield();
                    }
                }
                conn.Reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    // Unless our own error (a timer's, say) closed it first: that error stays the last.
                    TraceEvent(ProtocolEvents.ConnectionClosed, "Connection closed");
                    lock (_sync)
                    {
                        if (fsm.State != BgpState.Idle)
                            fsm.Handle(new FsmEvent(FsmEventKind.TcpConnectionFails, Reason: "Connection closed"));
                    }
                    return established;
                }
            }
            return established;
        }
        catch (OperationCanceledException)
        {
            return established;
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException or InvalidOperationException)
        {
            var reason = e is IOException { InnerException: System.Net.Sockets.SocketException se } ? SocketErrorText(se.SocketErrorCode)
                : e is System.Net.Sockets.SocketException se2 ? SocketErrorText(se2.SocketErrorCode) : "Connection closed";
            if (Trace.Events.IsEnabled(LogLevel.Debug))
                TraceEvent(ProtocolEvents.ConnectionClosed, $"Connection lost ({reason})");
            lock (_sync)
            {
                if (fsm.State != BgpState.Idle)
                    fsm.Handle(new FsmEvent(FsmEventKind.TcpConnectionFails, Reason: reason));
            }
            return established;
        }
        finally
        {
            Task? stopSend;
            lock (_sync)
            {
                link.Timer?.Dispose();
                link.Timer = null;
                // A stop's Cease under way goes out before the connection is freed, and before the
                // exporter is cancelled, which could cut one of its UPDATEs short.
                stopSend = link.StopSend;
            }
            if (stopSend is not null)
                await stopSend.ConfigureAwait(false);
            await cts.CancelAsync().ConfigureAwait(false);
            if (exporter is not null)
            {
                try
                {
                    await exporter.ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
                {
                    // The connection is going away.
                }
            }
            lock (_sync)
            {
                if (ReferenceEquals(_candidate, link))
                    _candidate = null;
                link.Cts = null;
            }
            await conn.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The session reached Established: count it, forget the last error (BIRD clears it in
    /// <c>bgp_conn_enter_established_state</c>) and settle routes kept over a restart (RFC 4724 §4.2).
    /// </summary>
    private void OnEstablished(Link link)
    {
        Messages.CountEstablished();
        CapabilitySet? peer;
        lock (_sync)
        {
            link.Fsm.ClearError();
            peer = link.Fsm.PeerOpen?.Capabilities;
        }
        GracefulRestartReestablished(peer);
    }

    private void SocketSetupAfterConnect(BgpConnection conn)
    {
        lock (_sync)
            _localAddress = conn.LocalAddress;
    }

    private enum FrameOutcome
    {
        Continue,
        Established,
        Closed,
    }

    private async Task<FrameOutcome> HandleFrameAsync(Link conn, BgpFrame frame, BgpCodec codec, CancellationToken ct)
    {
        byte[]? rented = null;
        var len = (int)frame.Body.Length;
        ReadOnlyMemory<byte> body;
        if (frame.Body.IsSingleSegment)
            body = frame.Body.First;
        else
        {
            rented = ArrayPool<byte>.Shared.Rent(len);
            frame.Body.CopyTo(rented);
            body = rented.AsMemory(0, len);
        }
        try
        {
            switch (frame.Type)
            {
                case MessageType.Open:
                    if (!OpenMessage.TryParse(body.Span, out var open, out var openError))
                        return await FeedAsync(conn, new FsmEvent(FsmEventKind.BgpOpenMsgErr, Error: openError), ct).ConfigureAwait(false);
                    if (ResolveCollision(conn, open!) is { } loser)
                    {
                        await CloseForCollisionAsync(loser).ConfigureAwait(false);
                        if (ReferenceEquals(loser, conn))
                            return FrameOutcome.Closed;
                    }
                    return await FeedAsync(conn, new FsmEvent(FsmEventKind.BgpOpen, Open: open), ct).ConfigureAwait(false);
                case MessageType.Keepalive:
                    return await FeedAsync(conn, FsmEventKind.KeepAliveMsg, ct).ConfigureAwait(false);
                case MessageType.Notification:
                    NotificationMessage.TryParse(body.Span, out var n);
                    Messages.CountNotificationReceived((byte)n.Code, n.Subcode);
                    LogReceivedNotification(n);
                    return await FeedAsync(conn, new FsmEvent(FsmEventKind.NotifMsg, Error: n), ct).ConfigureAwait(false);
                case MessageType.RouteRefresh:
                    if (!RouteRefreshMessage.TryParse(body.Span, out _, out var rrError))
                        return await FeedAsync(conn, new FsmEvent(FsmEventKind.UpdateMsgErr, Error: rrError), ct).ConfigureAwait(false);
                    TraceEvent(ProtocolEvents.RouteRefresh, "Got ROUTE-REFRESH, sending the routes again");
                    var o = await FeedAsync(conn, FsmEventKind.RouteRefreshMsg, ct).ConfigureAwait(false);
                    // RFC 2918 §4: re-advertise the Adj-RIB-Out.
                    if (o != FrameOutcome.Closed)
                        RequestRefeed();
                    return o;
                case MessageType.Update:
                    var state = await FeedAsync(conn, FsmEventKind.UpdateMsg, ct).ConfigureAwait(false);
                    if (state == FrameOutcome.Closed)
                        return state;
                    var error = ImportUpdate(body.Span, codec);
                    if (error is { } ue)
                        return await FeedAsync(conn, ImportErrorEvent(ue), ct).ConfigureAwait(false);
                    if (Table.IsCorked)
                        await WaitForExportersAsync(ct).ConfigureAwait(false);
                    return FrameOutcome.Continue;
                default:
                    return FrameOutcome.Continue;
            }
        }
        finally
        {
            if (rented is not null)
                ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Feeds the FSM and carries out its actions.</summary>
    /// <remarks>
    /// This and <see cref="ExecuteAsync"/> wait on the socket while a session is set up (its OPEN, its
    /// first KEEPALIVE): pooled, so a reflector bringing up a thousand clients does not leave a state
    /// machine of each behind per message (bench/RESULTS-perf.md, twentieth round). Each is awaited once.
    /// </remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<FrameOutcome> FeedAsync(Link conn, FsmEvent e, CancellationToken ct)
    {
        IReadOnlyList<FsmAction> actions;
        bool idle;
        lock (_sync)
        {
            // The FSM reuses its list: copied, except when empty (an UPDATE or KEEPALIVE while
            // Established), so a message that needs no action allocates nothing here.
            var handled = conn.Fsm.Handle(e);
            actions = handled.Count == 0 ? [] : [.. handled];
            // An event may start a timer sooner than the session is woken for (the OPEN starts the
            // keepalive timer, under the startup hold time); one that moved later needs nothing.
            conn.Timer?.ArmEarlier(conn.Fsm.NextDeadline);
            idle = conn.Fsm.State == BgpState.Idle;
        }
        if (actions.Count > 0 && !await ExecuteAsync(conn, actions, ct).ConfigureAwait(false))
            return FrameOutcome.Closed;
        // The FSM ignores messages once Idle (a stop or an error got there first): the connection is
        // done with, and nothing more of it is read, least of all an UPDATE to import.
        if (idle)
            return FrameOutcome.Closed;
        for (var i = 0; i < actions.Count; i++)
        {
            if (actions[i].Kind == FsmActionKind.Established)
                return FrameOutcome.Established;
        }
        return FrameOutcome.Continue;
    }

    /// <summary>Carries out FSM actions; false when the connection is to be closed.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ExecuteAsync(Link link, IReadOnlyList<FsmAction> actions, CancellationToken ct)
    {
        var conn = link.Connection;
        foreach (var a in actions)
        {
            switch (a.Kind)
            {
                case FsmActionKind.SendOpen:
                    var open = OpenMessage.Create(Options.LocalAs, Options.HoldTime, Options.RouterId, link.Fsm.Config.Capabilities);
                    await conn.SendAsync(MessageType.Open, open.Write, ct).ConfigureAwait(false);
                    break;
                case FsmActionKind.SendKeepalive:
                    // The keepalive timer restarts when the message is handed to the socket (see
                    // ExportLoopAsync): before the bytes can reach the peer.
                    lock (_sync)
                        link.Fsm.MessageSent();
                    await conn.SendAsync(MessageType.Keepalive, KeepaliveMessage.Write, ct).ConfigureAwait(false);
                    break;
                case FsmActionKind.SendNotification:
                    var err = a.Error!.Value;
                    _log.LogWarning("{Name}: sending NOTIFICATION: {Error}", Name, err.Description);
                    try
                    {
                        // Not cut short by the session's cancellation, only bounded as a stop's Cease
                        // is: a stop that comes while it is being written (the import limit's disable
                        // stops the protocol beside this loop) found the FSM Idle already, so sent no
                        // Cease of its own, and cancelling this write closed the connection with none.
                        using var bound = new CancellationTokenSource(StopSendWait);
                        await conn.SendAsync(MessageType.Notification, w => NotificationMessage.Write(w, err), bound.Token).ConfigureAwait(false);
                        Messages.CountNotificationSent((byte)err.Code, err.Subcode);
                    }
                    catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
                    {
                        // The peer may already be gone.
                    }
                    break;
                case FsmActionKind.Established:
                    _log.LogInformation("{Name}: session established", Name);
                    TraceEvent(ProtocolEvents.SessionEstablished, "BGP session established");
                    break;
                case FsmActionKind.Close:
                    return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Logs a received NOTIFICATION; a Cease with a shutdown communication (RFC 9003) becomes the
    /// protocol's message as well, as BIRD's <c>bgp_handle_message</c> makes it: shown in
    /// <c>show protocols all</c> as <c>Message:</c>, and logged quoted after the error. One that §4
    /// says not to show (bad length, not UTF-8) is logged in hex.
    /// </summary>
    private void LogReceivedNotification(BgpError n)
    {
        if (ShutdownCommunication.Applies(n.Code, n.Subcode) && !n.Data.IsEmpty)
        {
            if (ShutdownCommunication.TryDecode(n.Data.Span) is { } text)
            {
                _receivedShutdownMessage = text;
                _log.LogWarning("{Name}: received NOTIFICATION: {Error}: \"{Message}\"", Name, n.Description, text);
            }
            else
                _log.LogWarning("{Name}: received NOTIFICATION: {Error}: invalid shutdown communication {Data}", Name, n.Description, Convert.ToHexString(n.Data.Span));
            return;
        }
        _log.LogWarning("{Name}: received NOTIFICATION: {Error}", Name, n.Description);
    }
}
