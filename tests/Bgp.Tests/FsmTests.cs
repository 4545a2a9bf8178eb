using Calico.Bgp.Speaker.Session;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Speaker.Tests;

internal sealed class ManualTime : TimeProvider
{
    private DateTimeOffset _now = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public override DateTimeOffset GetUtcNow() => _now;
    public void Advance(TimeSpan by) => _now += by;
}

public class FsmTests
{
    private static readonly CapabilitySet Caps = new() { Families = [AfiSafi.Ipv4Unicast], FourOctetAs = 64512, RouteRefresh = true };

    private static (BgpFsm Fsm, ManualTime Time) Create(bool passive = false, int hold = 240)
    {
        var time = new ManualTime();
        var fsm = new BgpFsm(new FsmConfig { LocalAs = 64512, PeerAs = 64512, RouterId = 0x0A000001, Capabilities = Caps, Passive = passive, HoldTime = hold }, time);
        return (fsm, time);
    }

    private static OpenMessage PeerOpen(ushort hold = 90, uint id = 0x0A000002, uint asn = 64512) =>
        OpenMessage.Create(asn, hold, id, Caps with { FourOctetAs = asn });

    private static FsmActionKind[] Kinds(IReadOnlyList<FsmAction> a) => [.. a.Select(x => x.Kind)];

    [Fact]
    public void Happy_path_reaches_established()
    {
        var (fsm, _) = Create();
        Assert.Equal([FsmActionKind.Connect], Kinds(fsm.Handle(FsmEventKind.ManualStart)));
        Assert.Equal(BgpState.Connect, fsm.State);
        Assert.Equal([FsmActionKind.SendOpen], Kinds(fsm.Handle(FsmEventKind.TcpConnectionConfirmed)));
        Assert.Equal(BgpState.OpenSent, fsm.State);
        Assert.Equal([FsmActionKind.SendKeepalive], Kinds(fsm.Handle(new FsmEvent(FsmEventKind.BgpOpen, Open: PeerOpen()))));
        Assert.Equal(BgpState.OpenConfirm, fsm.State);
        Assert.Equal(90, fsm.HoldTime);
        Assert.Equal(30, fsm.KeepaliveTime);
        Assert.Equal([FsmActionKind.Established], Kinds(fsm.Handle(FsmEventKind.KeepAliveMsg)));
        Assert.Equal(BgpState.Established, fsm.State);
        Assert.True(fsm.Codec.FourOctetAs);
    }

    [Fact]
    public void Passive_start_waits_in_active()
    {
        var (fsm, _) = Create(passive: true);
        Assert.Empty(fsm.Handle(FsmEventKind.ManualStart));
        Assert.Equal(BgpState.Active, fsm.State);
    }

    [Fact]
    public void Connect_failure_goes_active_and_retry_timer_connects_again()
    {
        var (fsm, time) = Create();
        fsm.Handle(FsmEventKind.ManualStart);
        fsm.Handle(new FsmEvent(FsmEventKind.TcpConnectionFails, Reason: "Connection refused"));
        Assert.Equal(BgpState.Active, fsm.State);
        Assert.Equal("Socket: Connection refused", fsm.LastError);
        Assert.Empty(fsm.Tick());
        time.Advance(TimeSpan.FromSeconds(121));
        Assert.Equal([FsmActionKind.Connect], Kinds(fsm.Tick()));
        Assert.Equal(BgpState.Connect, fsm.State);
    }

    [Fact]
    public void Hold_timer_expiry_sends_notification_4()
    {
        var (fsm, time) = Create();
        fsm.Handle(FsmEventKind.ManualStart);
        fsm.Handle(FsmEventKind.TcpConnectionConfirmed);
        fsm.Handle(new FsmEvent(FsmEventKind.BgpOpen, Open: PeerOpen(hold: 9)));
        fsm.Handle(FsmEventKind.KeepAliveMsg);
        time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal([FsmActionKind.SendKeepalive], Kinds(fsm.Tick()));
        time.Advance(TimeSpan.FromSeconds(7));
        var actions = fsm.Tick();
        Assert.Equal([FsmActionKind.SendNotification, FsmActionKind.Close], Kinds(actions));
        Assert.Equal(NotificationCode.HoldTimerExpired, actions[0].Error!.Value.Code);
        Assert.Equal("BGP Error: Hold timer expired", fsm.LastError);
        Assert.Equal(BgpState.Idle, fsm.State);
    }

    [Fact]
    public void Hold_time_zero_disables_both_timers()
    {
        var (fsm, time) = Create(hold: 0);
        fsm.Handle(FsmEventKind.ManualStart);
        fsm.Handle(FsmEventKind.TcpConnectionConfirmed);
        fsm.Handle(new FsmEvent(FsmEventKind.BgpOpen, Open: PeerOpen()));
        fsm.Handle(FsmEventKind.KeepAliveMsg);
        time.Advance(TimeSpan.FromHours(1));
        Assert.Empty(fsm.Tick());
        Assert.Equal(BgpState.Established, fsm.State);
    }

    [Theory]
    [InlineData(2, 0x0A000002u, 64512u, OpenErrorSubcode.UnacceptableHoldTime)]
    [InlineData(90, 0x0A000002u, 64513u, OpenErrorSubcode.BadPeerAs)]
    [InlineData(90, 0x0A000001u, 64512u, OpenErrorSubcode.BadBgpIdentifier)]
    [InlineData(90, 0u, 64512u, OpenErrorSubcode.BadBgpIdentifier)]
    public void Bad_open_is_refused(ushort hold, uint id, uint asn, OpenErrorSubcode expected)
    {
        var (fsm, _) = Create();
        fsm.Handle(FsmEventKind.ManualStart);
        fsm.Handle(FsmEventKind.TcpConnectionConfirmed);
        var actions = fsm.Handle(new FsmEvent(FsmEventKind.BgpOpen, Open: PeerOpen(hold, id, asn)));
        Assert.Equal(FsmActionKind.SendNotification, actions[0].Kind);
        Assert.Equal((byte)expected, actions[0].Error!.Value.Subcode);
        Assert.Equal(BgpState.Idle, fsm.State);
    }

    [Fact]
    public void Update_in_open_sent_is_an_fsm_error_with_rfc6608_subcode()
    {
        var (fsm, _) = Create();
        fsm.Handle(FsmEventKind.ManualStart);
        fsm.Handle(FsmEventKind.TcpConnectionConfirmed);
        var actions = fsm.Handle(FsmEventKind.UpdateMsg);
        Assert.Equal(new BgpError(NotificationCode.FsmError, 1).Description, actions[0].Error!.Value.Description);
        Assert.Equal("BGP Error: Unexpected message in OpenSent state", fsm.LastError);
    }

    [Theory]
    [InlineData(FsmEventKind.KeepAliveMsg)]
    [InlineData(FsmEventKind.UpdateMsg)]
    [InlineData(FsmEventKind.RouteRefreshMsg)]
    [InlineData(FsmEventKind.NotifMsg)]
    [InlineData(FsmEventKind.BgpOpen)]
    public void A_message_in_idle_changes_nothing(FsmEventKind kind)
    {
        // RFC 4271 §8.2.2 Idle: events 9-12 and 15-28 are ignored. A message left in the buffer of a
        // connection dropped for a hold timer must not replace that error or ask for another close.
        var (fsm, time) = Create();
        fsm.Handle(FsmEventKind.ManualStart);
        fsm.Handle(FsmEventKind.TcpConnectionConfirmed);
        time.Advance(TimeSpan.FromSeconds(300));
        fsm.Tick();
        Assert.Equal(BgpState.Idle, fsm.State);
        var error = fsm.LastError;
        Assert.Equal("BGP Error: Hold timer expired", error);

        var e = kind == FsmEventKind.BgpOpen ? new FsmEvent(kind, Open: PeerOpen())
            : kind == FsmEventKind.NotifMsg ? new FsmEvent(kind, Error: BgpError.HoldTimerExpired) : new FsmEvent(kind);
        Assert.Empty(fsm.Handle(e));
        Assert.Equal(BgpState.Idle, fsm.State);
        Assert.Equal(error, fsm.LastError);
    }

    [Fact]
    public void Received_notification_is_worded_as_bird_does()
    {
        var (fsm, _) = Create();
        fsm.Handle(FsmEventKind.ManualStart);
        fsm.Handle(FsmEventKind.TcpConnectionConfirmed);
        fsm.Handle(new FsmEvent(FsmEventKind.NotifMsg, Error: BgpError.HoldTimerExpired));
        Assert.Equal("Received: Hold timer expired", fsm.LastError);
    }

    [Fact]
    public void Manual_stop_sends_cease()
    {
        var (fsm, _) = Create();
        fsm.Handle(FsmEventKind.ManualStart);
        fsm.Handle(FsmEventKind.TcpConnectionConfirmed);
        var actions = fsm.Handle(new FsmEvent(FsmEventKind.ManualStop, StopSubcode: CeaseSubcode.AdministrativeReset));
        Assert.Equal(NotificationCode.Cease, actions[0].Error!.Value.Code);
        Assert.Equal((byte)CeaseSubcode.AdministrativeReset, actions[0].Error!.Value.Subcode);
    }

    [Fact]
    public void Automatic_stop_sends_cease_and_shows_its_reason_from_the_same_step()
    {
        var (fsm, _) = Create();
        fsm.Handle(FsmEventKind.ManualStart);
        fsm.Handle(FsmEventKind.TcpConnectionConfirmed);
        fsm.Handle(new FsmEvent(FsmEventKind.BgpOpen, Open: PeerOpen()));
        fsm.Handle(FsmEventKind.KeepAliveMsg);
        var actions = fsm.Handle(new FsmEvent(FsmEventKind.AutomaticStop, Reason: "Automatic shutdown: Route limit exceeded", StopSubcode: CeaseSubcode.MaximumPrefixes));
        Assert.Equal([FsmActionKind.SendNotification, FsmActionKind.Close], Kinds(actions));
        Assert.Equal(new BgpError(NotificationCode.Cease, (byte)CeaseSubcode.MaximumPrefixes), actions[0].Error);
        Assert.Equal(BgpState.Idle, fsm.State);
        Assert.Equal("Automatic shutdown: Route limit exceeded", fsm.LastError);
        Assert.Equal(NotificationCode.Cease, fsm.LastNotification!.Value.Code);
    }

    [Fact]
    public void Error_wait_backs_off_between_min_and_max()
    {
        var b = new Backoff(5, 60, 300);
        Assert.Equal(60, b.NextErrorWait().TotalSeconds);
        Assert.Equal(120, b.NextErrorWait().TotalSeconds);
        Assert.Equal(240, b.NextErrorWait().TotalSeconds);
        Assert.Equal(300, b.NextErrorWait().TotalSeconds);
        b.Reset();
        Assert.Equal(60, b.NextErrorWait().TotalSeconds);
    }
}
