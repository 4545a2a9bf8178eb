using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Session;
using Calico.Bgp.Speaker.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>
/// Our protocol on a fake clock with its own scheduler, connected over loopback to a scripted
/// peer that has answered our OPEN (hold time 9 s: a keepalive every 3 s, RFC 4271 §4.4's third)
/// and, unless told not to, sent one KEEPALIVE; disposing stops the protocol and closes the rest.
/// </summary>
internal sealed class FakeClockSession : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly System.Net.Sockets.Socket _listener;

    private FakeClockSession(string name, string address, ILoggerFactory? loggers)
    {
        Timers = new DeadlineScheduler(Time);
        _listener = ScriptedPeer.Listen(address);
        Bgp = new BgpProtocol(LoopbackOptions.For(name, address, _listener), new RoutingTable(), Time, loggers ?? NullLoggerFactory.Instance, null, null, Timers);
    }

    public FakeTimeProvider Time { get; } = new();
    public DeadlineScheduler Timers { get; }
    public BgpProtocol Bgp { get; }
    public ScriptedPeer Peer { get; private set; } = null!;

    /// <param name="keepalive">Whether the peer sends its KEEPALIVE (Established) or not (our side stays in OpenConfirm).</param>
    public static async Task<FakeClockSession> OpenAsync(string name, string address, uint peerId, bool keepalive = true, ILoggerFactory? loggers = null)
    {
        var s = new FakeClockSession(name, address, loggers);
        try
        {
            await s.Bgp.StartAsync(CancellationToken.None);
            // The connect delay (1 s at least) runs on the fake clock too.
            await Wait.UntilAsync(() => s.Bgp.BgpState == BgpState.Active, Patience, "the connect delay to start");
            s.Time.Advance(TimeSpan.FromSeconds(1));
            s.Peer = await ScriptedPeer.AcceptAsync(s._listener);
            await s.Peer.ReadUntilAsync(MessageType.Open);
            await s.Peer.SendOpenAsync(64513, peerId, ScriptedPeer.Caps(asn: 64513), hold: 9);
            if (keepalive)
                await s.Peer.SendKeepaliveAsync();
            return s;
        }
        catch
        {
            await s.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Bgp.StopAsync(CancellationToken.None);
        if (Peer is not null)
            await Peer.DisposeAsync();
        Timers.Dispose();
        _listener.Dispose();
    }
}
