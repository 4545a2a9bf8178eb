using Calico.Bgp.Speaker.Session;
using Calico.Bgp.Speaker.Transport;
using Calico.Bgp.Speaker.Wire;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Speaker;

public sealed partial class BgpProtocol
{
    /// <summary>
    /// Registers the session of <paramref name="link"/> with the shared scheduler, armed at its
    /// FSM's first deadline (the startup hold time, once the OPEN is sent).
    /// </summary>
    private void StartTimers(Link link)
    {
        var timer = _timers.Register(state => OnTimersDue((Link)state!), link);
        lock (_sync)
        {
            link.Timer = timer;
            timer.Arm(link.Fsm.NextDeadline);
        }
    }

    private void OnTimersDue(Link link)
    {
        try
        {
            FireTimers(link);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A thread-pool callback: an exception here would end the process.
            _log.LogError(e, "{Name}: session timer failed", Name);
        }
    }

    /// <summary>
    /// A deadline of the session is due: fires the FSM timers that ran out and arms the next.
    /// Never waits on a write, so a peer that stops reading while it is also silent is still
    /// caught by its hold timer: a KEEPALIVE is written in the background (one at a time), and a
    /// timer's NOTIFICATION goes only if the socket takes it at once. The send hold timer
    /// (RFC 9687) is checked first, with the write progress read from the connection, since the
    /// KEEPALIVE the other timers send can be stuck behind the very stall it detects.
    /// </summary>
    private void FireTimers(Link link)
    {
        CancellationToken ct;
        CancellationTokenSource session;
        FsmAction[] actions;
        bool sendHold;
        int seconds;
        lock (_sync)
        {
            // The session is ending (or ended): its timers are over.
            if (link.Cts is not { IsCancellationRequested: false } cts || link.Timer is not { } timer)
                return;
            session = cts;
            ct = cts.Token;
            var fsm = link.Fsm;
            // RFC 9687 §4: the send hold timer restarts whenever the peer takes our data.
            fsm.SendProgress(link.Connection.LastSendProgress);
            var due = fsm.TickSendHold();
            sendHold = due.Count > 0;
            if (!sendHold)
                due = fsm.Tick();
            actions = due.Count == 0 ? [] : [.. due];
            seconds = fsm.SendHoldTime;
            // Exact, not only earlier: the deadlines that moved later since the last wake-up are
            // read here. Another timer due already is woken again at once.
            timer.Arm(fsm.NextDeadline);
        }
        if (actions.Length == 0)
            return;
        if (sendHold)
        {
            _log.LogWarning("{Name}: send hold timer expired: neighbor {Neighbor} took none of our data for {Seconds} s; dropping the session",
                Name, Options.NeighborAddress, seconds);
            // Not waiting for anything on the way out: the NOTIFICATION goes only if it can
            // without blocking, and the reset frees what was queued for the peer.
            ExecuteTimerActions(link, actions, ct);
            link.Connection.Abort();
            Cancel(session);
            return;
        }
        if (!ExecuteTimerActions(link, actions, ct))
            Cancel(session);
    }

    /// <summary>Carries out a timer's actions without waiting on the socket; false when the connection is to be closed.</summary>
    private bool ExecuteTimerActions(Link link, FsmAction[] actions, CancellationToken ct)
    {
        foreach (var a in actions)
        {
            switch (a.Kind)
            {
                case FsmActionKind.SendKeepalive:
                    StartKeepalive(link, ct);
                    break;
                case FsmActionKind.SendNotification:
                    // A stalled write would hold the NOTIFICATION back: reset instead.
                    if (!SendNotificationNow(link.Connection, a.Error!.Value))
                        link.Connection.Abort();
                    break;
                case FsmActionKind.Close:
                    return false;
            }
        }
        return true;
    }

    /// <summary>Starts a timer's KEEPALIVE unless one still waits for the socket: that one tells the peer we are alive once written.</summary>
    private void StartKeepalive(Link link, CancellationToken ct)
    {
        lock (_sync)
        {
            if (link.Keepalive is { IsCompleted: false })
                return;
        }
        var sending = SendKeepaliveAsync(link, ct);
        lock (_sync)
            link.Keepalive = sending;
    }

    /// <summary>A timer's KEEPALIVE, written when the socket takes it; a failed write is the read loop's to notice.</summary>
    private async Task SendKeepaliveAsync(Link link, CancellationToken ct)
    {
        try
        {
            // The FSM restarted the keepalive timer as this one fell due (BgpFsm.Handle).
            await link.Connection.SendAsync(MessageType.Keepalive, KeepaliveMessage.Write, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The session is ending.
        }
    }

    /// <summary>Ends the session loop; it may have ended (and freed its source) meanwhile.</summary>
    private static void Cancel(CancellationTokenSource session)
    {
        try
        {
            session.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The session ended first.
        }
    }

    /// <summary>
    /// Writes a timer's NOTIFICATION if the socket takes it at once (RFC 9687 §4: "if possible", not
    /// waited for); whether it was. A send hold expiry is counted either way, so the metrics show
    /// every one: a stalled peer's full socket rarely takes it.
    /// </summary>
    private bool SendNotificationNow(BgpConnection conn, BgpError error)
    {
        var written = conn.TrySendNow(MessageType.Notification, w => NotificationMessage.Write(w, error));
        if (written || error.Code == NotificationCode.SendHoldTimerExpired)
            Messages.CountNotificationSent((byte)error.Code, error.Subcode);
        _log.LogWarning("{Name}: sending NOTIFICATION: {Error}{Outcome}", Name, error.Description, written ? "" : " (the stalled socket did not take it)");
        return written;
    }
}
