using Calico.Bgp.Speaker.Session;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>The FSM reports each transition and each timer that fires, as it happens (BIRD's <c>debug { states, events }</c>).</summary>
public class FsmTraceTests
{
    private static readonly CapabilitySet Caps = new() { Families = [AfiSafi.Ipv4Unicast], FourOctetAs = 64512, RouteRefresh = true };

    [Fact]
    public void Each_transition_is_reported_once_in_order_and_the_timers_that_fire()
    {
        var time = new ManualTime();
        var transitions = new List<(BgpState From, BgpState To)>();
        var timers = new List<FsmEventKind>();
        var fsm = new BgpFsm(new FsmConfig { LocalAs = 64512, PeerAs = 64512, RouterId = 0x0A000001, Capabilities = Caps, HoldTime = 9, ConnectDelayTime = 2, ConnectRetryTime = 5 }, time)
        {
            StateChanged = (from, to) => transitions.Add((from, to)),
            TimerExpired = timers.Add,
        };
        fsm.Handle(FsmEventKind.ManualStart);
        time.Advance(TimeSpan.FromSeconds(2));
        fsm.Tick();
        fsm.Handle(FsmEventKind.TcpConnectionConfirmed);
        fsm.Handle(new FsmEvent(FsmEventKind.BgpOpen, Open: OpenMessage.Create(64512, 9, 0x0A000002, Caps)));
        fsm.Handle(FsmEventKind.KeepAliveMsg);
        // A KEEPALIVE in Established changes nothing: no transition to report.
        fsm.Handle(FsmEventKind.KeepAliveMsg);
        time.Advance(TimeSpan.FromSeconds(10));
        // Both hold and keepalive timers are due: the hold timer ends the session; the keepalive timer is not an event to report.
        fsm.Tick();
        fsm.Tick();
        Assert.Equal(
            [
                (BgpState.Idle, BgpState.Active), (BgpState.Active, BgpState.Connect), (BgpState.Connect, BgpState.OpenSent),
                (BgpState.OpenSent, BgpState.OpenConfirm), (BgpState.OpenConfirm, BgpState.Established), (BgpState.Established, BgpState.Idle),
            ], transitions);
        Assert.Equal([FsmEventKind.ConnectRetryTimerExpires, FsmEventKind.HoldTimerExpires], timers);
    }
}
