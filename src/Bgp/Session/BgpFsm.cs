using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Speaker.Session;

/// <summary>
/// The BGP session FSM of RFC 4271 §8 as a pure state machine: events in, actions out; timers
/// are deadlines read from a <see cref="TimeProvider"/> and fired by <see cref="Tick"/>. No I/O,
/// so it is tested without sockets. Not thread-safe: the driver serialises calls.
/// </summary>
public sealed class BgpFsm(FsmConfig config, TimeProvider time)
{
    private readonly List<FsmAction> _actions = [];
    private BgpState _state = BgpState.Idle;

    public FsmConfig Config { get; } = config;

    public BgpState State
    {
        get => _state;
        private set
        {
            if (_state == value)
                return;
            var from = _state;
            _state = value;
            StateChanged?.Invoke(from, value);
        }
    }

    /// <summary>Told of each transition (from, to) as it happens, for BIRD's <c>debug { states }</c>; runs under the caller's lock.</summary>
    public Action<BgpState, BgpState>? StateChanged { get; init; }

    /// <summary>Told of each timer that fires (hold, connect retry, send hold; not the keepalive timer), for <c>debug { events }</c>.</summary>
    public Action<FsmEventKind>? TimerExpired { get; init; }
    public OpenMessage? PeerOpen { get; private set; }
    public BgpCodec Codec { get; private set; } = BgpCodec.Default;
    /// <summary>Negotiated hold time in seconds (0: no hold timer, RFC 4271 §4.2).</summary>
    public int HoldTime { get; private set; }
    public int KeepaliveTime { get; private set; }
    public DateTimeOffset? ConnectRetryDeadline { get; private set; }
    public DateTimeOffset? HoldDeadline { get; private set; }
    public DateTimeOffset? KeepaliveDeadline { get; private set; }
    /// <summary>Seconds our writes may stall before the session is dropped (RFC 9687); 0: no send hold timer.</summary>
    public int SendHoldTime { get; private set; }
    public DateTimeOffset? SendHoldDeadline { get; private set; }

    /// <summary>
    /// The earliest deadline of any running timer (connect retry, hold, keepalive, send hold), when
    /// the driver has to call <see cref="Tick"/> or <see cref="TickSendHold"/> next; null when none runs.
    /// </summary>
    public DateTimeOffset? NextDeadline => Earliest(Earliest(ConnectRetryDeadline, HoldDeadline), Earliest(KeepaliveDeadline, SendHoldDeadline));

    private static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset? b) =>
        a is { } x && b is { } y ? (x <= y ? x : y) : a ?? b;

    /// <summary>RFC 9687 §3's suggested SendHoldTime: 8 minutes.</summary>
    public const int DefaultSendHoldTime = 480;
    /// <summary>The last error in BIRD's words ("Received: Hold timer expired", "BGP Error: …", "Socket: …").</summary>
    public string? LastError { get; private set; }
    /// <summary>The error we sent or received last, for the caller's GR and logging decisions.</summary>
    public BgpError? LastNotification { get; private set; }

    private DateTimeOffset Now => time.GetUtcNow();

    /// <summary>Feeds one event; returns the actions to carry out, in order.</summary>
    public IReadOnlyList<FsmAction> Handle(FsmEvent e)
    {
        _actions.Clear();
        // §8.2.2 Idle: "any other event (Events 9-12, 15-28) ... does not cause change in the state".
        // A message still in the buffer of a connection that was just dropped is such an event: it
        // must neither overwrite the error that took the session down nor close anything again.
        if (State == BgpState.Idle && IsMessageEvent(e.Kind))
            return _actions;
        switch (e.Kind)
        {
            case FsmEventKind.ManualStart:
                if (State == BgpState.Idle)
                {
                    // §8.2.2 Idle, events 1/5: Connect (or Active when passive) with ConnectRetryTimer running.
                    ArmConnectRetry();
                    if (Config.Passive)
                        State = BgpState.Active;
                    else if (Config.ConnectDelayTime is not null)
                        EnterActiveWithDelay();
                    else
                    {
                        State = BgpState.Connect;
                        Emit(FsmActionKind.Connect);
                    }
                }
                break;
            case FsmEventKind.ManualStop:
                if (State is BgpState.OpenSent or BgpState.OpenConfirm or BgpState.Established)
                    Emit(FsmActionKind.SendNotification, new BgpError(NotificationCode.Cease, (byte)e.StopSubcode, e.StopData));
                GoIdle(null, close: true);
                break;
            case FsmEventKind.AutomaticStop:
                {
                    // §8.2.2 event 8, as ManualStop, but the stop is the error shown (BIRD's
                    // bgp_store_error with BE_AUTO_DOWN), set in the same step as Idle so no reader
                    // sees the session down with the Cease's own text instead.
                    var cease = new BgpError(NotificationCode.Cease, (byte)e.StopSubcode, e.StopData);
                    LastNotification = cease;
                    if (State is BgpState.OpenSent or BgpState.OpenConfirm or BgpState.Established)
                        Emit(FsmActionKind.SendNotification, cease);
                    GoIdle(e.Reason ?? "BGP Error: " + cease.Description, close: true);
                    break;
                }
            case FsmEventKind.ConnectRetryTimerExpires:
                if (State is BgpState.Connect or BgpState.Active)
                {
                    // §8.2.2 Connect/Active, event 9: retry the connection.
                    ArmConnectRetry();
                    if (!Config.Passive)
                    {
                        State = BgpState.Connect;
                        Emit(FsmActionKind.Connect);
                    }
                }
                break;
            case FsmEventKind.TcpConnectionConfirmed:
                if (State is BgpState.Idle or BgpState.Connect or BgpState.Active)
                {
                    // §8.2.2 events 16/17: send OPEN, hold timer to a large value (BIRD's startup hold time).
                    ConnectRetryDeadline = null;
                    State = BgpState.OpenSent;
                    Emit(FsmActionKind.SendOpen);
                    HoldDeadline = Now.AddSeconds(Config.StartupHoldTime);
                }
                break;
            case FsmEventKind.TcpConnectionFails:
                LastError = e.Reason is null ? LastError : "Socket: " + e.Reason;
                if (State == BgpState.Connect)
                {
                    // §8.2.2 Connect, event 18: back to Active, ConnectRetryTimer keeps running (or,
                    // as BIRD's bgp_active, restarts with the connect delay).
                    State = BgpState.Active;
                    if (Config.ConnectDelayTime is not null && !Config.Passive)
                        EnterActiveWithDelay();
                    Emit(FsmActionKind.Close);
                }
                else
                    GoIdle(LastError, close: true);
                break;
            case FsmEventKind.BgpOpen:
                OnOpen(e.Open!);
                break;
            case FsmEventKind.KeepAliveMsg:
                if (State == BgpState.OpenConfirm)
                {
                    // §8.2.2 OpenConfirm, event 26: Established.
                    State = BgpState.Established;
                    RestartHold();
                    Emit(FsmActionKind.Established);
                }
                else if (State == BgpState.Established)
                    RestartHold();
                else
                    FsmError();
                break;
            case FsmEventKind.UpdateMsg:
            case FsmEventKind.RouteRefreshMsg:
                if (State == BgpState.Established)
                    RestartHold();
                else
                    FsmError();
                break;
            case FsmEventKind.NotifMsg:
                LastNotification = e.Error;
                GoIdle(e.Error is { } r ? "Received: " + r.Description : "Received: Invalid message", close: true);
                break;
            case FsmEventKind.BgpHeaderErr:
            case FsmEventKind.BgpOpenMsgErr:
            case FsmEventKind.UpdateMsgErr:
                SendErrorAndClose(e.Error!.Value);
                break;
            case FsmEventKind.HoldTimerExpires:
                SendErrorAndClose(BgpError.HoldTimerExpired);
                break;
            case FsmEventKind.SendHoldTimerExpires:
                // RFC 9687 §4: NOTIFICATION "Send Hold Timer Expired" (sent if it can be, not waited
                // for), then the connection is dropped.
                SendErrorAndClose(BgpError.SendHoldTimerExpired);
                break;
            case FsmEventKind.KeepaliveTimerExpires:
                if (State is BgpState.OpenConfirm or BgpState.Established)
                {
                    Emit(FsmActionKind.SendKeepalive);
                    ArmKeepalive();
                }
                break;
        }
        return _actions;
    }

    private static bool IsMessageEvent(FsmEventKind kind) => kind is FsmEventKind.BgpOpen or FsmEventKind.KeepAliveMsg
        or FsmEventKind.UpdateMsg or FsmEventKind.RouteRefreshMsg or FsmEventKind.NotifMsg or FsmEventKind.BgpHeaderErr
        or FsmEventKind.BgpOpenMsgErr or FsmEventKind.UpdateMsgErr;

    /// <summary>Fires the timers whose deadline passed; returns the resulting actions.</summary>
    public IReadOnlyList<FsmAction> Tick()
    {
        var now = Now;
        if (HoldDeadline is { } h && now >= h)
        {
            HoldDeadline = null;
            TimerExpired?.Invoke(FsmEventKind.HoldTimerExpires);
            return Handle(FsmEventKind.HoldTimerExpires);
        }
        if (KeepaliveDeadline is { } k && now >= k)
            return Handle(FsmEventKind.KeepaliveTimerExpires);
        if (ConnectRetryDeadline is { } c && now >= c)
        {
            TimerExpired?.Invoke(FsmEventKind.ConnectRetryTimerExpires);
            return Handle(FsmEventKind.ConnectRetryTimerExpires);
        }
        _actions.Clear();
        return _actions;
    }

    /// <summary>
    /// RFC 9687 §4: the send hold timer restarts whenever the peer takes our data.
    /// <paramref name="lastProgress"/> is when our writes last made progress, or now when nothing
    /// waits to be written.
    /// </summary>
    public void SendProgress(DateTimeOffset lastProgress)
    {
        if (State is BgpState.OpenConfirm or BgpState.Established && SendHoldTime > 0)
            SendHoldDeadline = lastProgress.AddSeconds(SendHoldTime);
    }

    /// <summary>
    /// Fires the send hold timer if it ran out. Kept apart from <see cref="Tick"/>: the driver checks
    /// it from a loop of its own, since the KEEPALIVE that <see cref="Tick"/> may ask for can block
    /// behind the very stall this timer detects.
    /// </summary>
    public IReadOnlyList<FsmAction> TickSendHold()
    {
        if (SendHoldDeadline is { } s && Now >= s)
        {
            SendHoldDeadline = null;
            TimerExpired?.Invoke(FsmEventKind.SendHoldTimerExpires);
            return Handle(FsmEventKind.SendHoldTimerExpires);
        }
        _actions.Clear();
        return _actions;
    }

    /// <summary>RFC 4271 §8.2.2: an UPDATE or KEEPALIVE sent restarts the KeepaliveTimer.</summary>
    public void MessageSent()
    {
        if (State is BgpState.OpenConfirm or BgpState.Established)
            ArmKeepalive();
    }

    private void OnOpen(OpenMessage open)
    {
        if (State != BgpState.OpenSent)
        {
            FsmError();
            return;
        }
        // §6.2 checks, in BIRD's order.
        if (open.HoldTime is 1 or 2)
        {
            SendErrorAndClose(BgpError.Open(OpenErrorSubcode.UnacceptableHoldTime));
            return;
        }
        if (open.AutonomousSystem != Config.PeerAs)
        {
            Span<byte> data = [(byte)(open.MyAs >> 8), (byte)open.MyAs];
            SendErrorAndClose(BgpError.Open(OpenErrorSubcode.BadPeerAs, data.ToArray()));
            return;
        }
        if (open.RouterId == 0 || (Config.IsInternal && open.RouterId == Config.RouterId))
        {
            SendErrorAndClose(BgpError.Open(OpenErrorSubcode.BadBgpIdentifier));
            return;
        }
        PeerOpen = open;
        Codec = BgpCodec.Negotiate(Config.Capabilities, open.Capabilities);
        // §4.2: the smaller of the two hold times; 0 turns both timers off.
        HoldTime = Math.Min(Config.HoldTime, (int)open.HoldTime);
        KeepaliveTime = HoldTime == 0 ? 0 : Config.KeepaliveTime is { } ka ? Math.Min(ka, HoldTime) : HoldTime / 3;
        SendHoldTime = NegotiatedSendHoldTime(Config, HoldTime);
        State = BgpState.OpenConfirm;
        Emit(FsmActionKind.SendKeepalive);
        ArmKeepalive();
        RestartHold();
        SendProgress(Now);
    }

    /// <summary>RFC 6608: an unexpected message gets FSM error with the subcode of the state.</summary>
    private void FsmError()
    {
        var sub = State switch
        {
            BgpState.OpenSent => FsmErrorSubcode.UnexpectedInOpenSent,
            BgpState.OpenConfirm => FsmErrorSubcode.UnexpectedInOpenConfirm,
            BgpState.Established => FsmErrorSubcode.UnexpectedInEstablished,
            _ => FsmErrorSubcode.Unspecified,
        };
        SendErrorAndClose(BgpError.Fsm(sub));
    }

    private void SendErrorAndClose(BgpError error)
    {
        LastNotification = error;
        if (State is BgpState.OpenSent or BgpState.OpenConfirm or BgpState.Established)
            Emit(FsmActionKind.SendNotification, error);
        GoIdle("BGP Error: " + error.Description, close: true);
    }

    /// <summary>
    /// The send hold time of a session whose hold time came out as <paramref name="holdTime"/>.
    /// Without a hold time there is no send hold timer either. A configured value is scaled with
    /// the negotiated hold time, as BIRD 2 does (<c>send hold time</c> keeps its proportion to
    /// <c>hold time</c>); unset, it is RFC 9687 §3's 8 minutes, or twice the hold time when that
    /// is longer, so a peer that is merely slow is never cut before its own hold timer would be.
    /// </summary>
    public static int NegotiatedSendHoldTime(FsmConfig config, int holdTime)
    {
        if (holdTime == 0)
            return 0;
        if (config.SendHoldTime is { } configured)
            return configured == 0 ? 0 : (int)Math.Max(1, (long)configured * holdTime / Math.Max(1, config.HoldTime));
        return Math.Max(DefaultSendHoldTime, 2 * holdTime);
    }

    private void GoIdle(string? error, bool close)
    {
        if (error is not null)
            LastError = error;
        State = BgpState.Idle;
        ConnectRetryDeadline = null;
        HoldDeadline = null;
        KeepaliveDeadline = null;
        SendHoldDeadline = null;
        if (close)
            Emit(FsmActionKind.Close);
    }

    /// <summary>
    /// Records an error the protocol itself decided on rather than one of the session's, such as
    /// BIRD's automatic shutdown for the import limit (<c>bgp_store_error</c> with <c>BE_AUTO_DOWN</c>).
    /// </summary>
    public void StoreError(string error) => LastError = error;

    /// <summary>Clears the last error (a fresh manual start).</summary>
    public void ClearError()
    {
        LastError = null;
        LastNotification = null;
    }

    /// <summary>BIRD's <c>bgp_active</c>: Active, connecting when the connect delay (at least 1 s) runs out.</summary>
    private void EnterActiveWithDelay()
    {
        State = BgpState.Active;
        ConnectRetryDeadline = Now.AddSeconds(Math.Max(1, Config.ConnectDelayTime ?? 0));
    }

    /// <summary>Seconds the connect delay lasts (BIRD's <c>Connect delay:</c> total), null when not used.</summary>
    public int? ConnectDelaySeconds => Config.ConnectDelayTime is { } d ? Math.Max(1, d) : null;

    private void ArmConnectRetry() => ConnectRetryDeadline = Now.AddSeconds(Config.ConnectRetryTime);
    private void RestartHold() => HoldDeadline = HoldTime == 0 ? null : Now.AddSeconds(HoldTime);
    private void ArmKeepalive() => KeepaliveDeadline = KeepaliveTime == 0 ? null : Now.AddSeconds(KeepaliveTime);
    private void Emit(FsmActionKind kind, BgpError? error = null) => _actions.Add(new FsmAction(kind, error));
}
