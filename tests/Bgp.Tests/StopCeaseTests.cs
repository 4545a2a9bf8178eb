using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Session;
using Calico.Bgp.Speaker.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>
/// RFC 4271 §8.2.2: a ManualStop in OpenSent, OpenConfirm or Established sends a Cease before the
/// connection is dropped, whatever the session's own loop does meanwhile. Loopback 127.0.7.22.
/// </summary>
public class StopCeaseTests
{
    private static readonly TimeSpan Patience = FakeClockSession.Patience;

    /// <summary>
    /// The race made to happen every time: the stop has made the FSM Idle (its "Shutdown requested"
    /// trace comes right after) and waits there while the peer's KEEPALIVE arrives, which the
    /// session loop answers by ending (the FSM ignores messages in Idle, RFC 4271 §8.2.2);
    /// the stop goes on once the loop is on its way out (its timer dropped). The peer then reads
    /// everything it gets until the connection ends.
    /// </summary>
    [Fact]
    public async Task A_stop_racing_the_peers_keepalive_in_open_confirm_still_sends_its_cease()
    {
        var loggers = new ShutdownHookLoggers();
        await using var s = await FakeClockSession.OpenAsync("stoprace", "127.0.7.22", 0x0A0000F7u, keepalive: false, loggers: loggers);
        // Our KEEPALIVE answers the peer's OPEN: OpenConfirm, and it stays there (no KEEPALIVE yet).
        Assert.Equal(MessageType.Keepalive, ScriptedPeer.TypeOf(await s.Peer.ReadAsync(Patience)));
        Assert.Equal(BgpState.OpenConfirm, s.Bgp.BgpState);
        await Wait.UntilAsync(() => s.Timers.ArmedCount == 1, Patience, "the session's timer armed");

        loggers.OnShutdownRequested = () =>
        {
            Assert.Equal(BgpState.Idle, s.Bgp.BgpState);
            // Off the stopping thread, which waits here for the session loop to be closing.
            var peerSide = Task.Run(async () =>
            {
                await s.Peer.SendKeepaliveAsync();
                await Wait.UntilAsync(() => s.Timers.ArmedCount == 0, Patience, "the session loop to end on the peer's KEEPALIVE");
            });
            Assert.True(peerSide.Wait(Patience * 2), "the peer's side of the race to finish");
        };
        // Not on the test's own context: the hook blocks the thread the stop runs on.
        await Task.Run(() => s.Bgp.StopAsync(CancellationToken.None));

        Assert.True(loggers.Fired);
        var cease = Assert.Single(await ReadToEndAsync(s.Peer), m => ScriptedPeer.TypeOf(m) == MessageType.Notification);
        Assert.Equal((byte)NotificationCode.Cease, cease[19]);
        Assert.Equal((byte)CeaseSubcode.AdministrativeShutdown, cease[20]);
        Assert.Equal([new NotificationCount(6, 2, 1)], s.Bgp.Messages.NotificationsSent());
        Assert.Equal(ProtocolState.Down, s.Bgp.State);
    }

    /// <summary>Every message until the peer sees the connection end (closed or reset).</summary>
    private static async Task<List<byte[]>> ReadToEndAsync(ScriptedPeer peer)
    {
        var messages = new List<byte[]>();
        try
        {
            while (true)
                messages.Add(await peer.ReadAsync(Patience));
        }
        catch (Exception e) when (e is EndOfStreamException or IOException)
        {
            return messages;
        }
    }

    /// <summary>
    /// Loggers that run <see cref="OnShutdownRequested"/> (once) when the protocol traces its stop
    /// under <c>debug { events }</c>, on the stopping thread; every other class and log is off.
    /// </summary>
    private sealed class ShutdownHookLoggers : ILoggerFactory
    {
        private int _fired;

        public Action? OnShutdownRequested { get; set; }

        public bool Fired => Volatile.Read(ref _fired) != 0;

        public ILogger CreateLogger(string categoryName) =>
            categoryName == ProtocolTrace.CategoryOf("events") ? new EventsLogger(this) : NullLogger.Instance;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        private sealed class EventsLogger(ShutdownHookLoggers owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (eventId == ProtocolEvents.ShutdownRequested && owner.OnShutdownRequested is { } hook && Interlocked.Exchange(ref owner._fired, 1) == 0)
                    hook();
            }
        }
    }
}
