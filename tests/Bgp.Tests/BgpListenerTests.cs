using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>
/// The listening socket on loopback: a neighbour that connects while the daemon is still starting its
/// protocols waits in the socket's queue for its protocol, and strangers are logged once a minute each.
/// </summary>
public class BgpListenerTests
{
    [Fact]
    public async Task A_neighbour_that_connects_before_its_protocol_registers_is_served_not_refused()
    {
        var logs = new CapturingLoggers();
        await using var listener = new BgpListener(IpAddr.Parse("127.0.9.1"), 0, logs);
        listener.Open();
        // The neighbour is quicker than our start: its connect completes in the kernel's queue.
        await using var early = await ScriptedPeer.ConnectAsync("127.0.9.2", "127.0.9.1", listener.Port);
        var bgp = new BgpProtocol(new BgpProtocolOptions
        {
            Name = "early",
            RouterId = 0x7F000901,
            LocalAs = 64512,
            PeerAs = 64512,
            NeighborAddress = IpAddr.Parse("127.0.9.2"),
            SourceAddress = IpAddr.Parse("127.0.9.1"),
            // Ours does not connect out within the test: the session can only come on the early connection.
            ConnectDelayTime = 3600,
            HoldTime = 90,
        }, new RoutingTable(), TimeProvider.System, NullLoggerFactory.Instance, listener);
        await bgp.StartAsync(CancellationToken.None);
        try
        {
            listener.StartAccepting();
            Assert.Equal(MessageType.Open, ScriptedPeer.TypeOf(await early.ReadAsync()));
            Assert.DoesNotContain(logs.Warnings, w => w.Contains("Unexpected connect", StringComparison.Ordinal));
        }
        finally
        {
            await bgp.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Each_stranger_is_logged_and_then_rate_limited_on_its_own()
    {
        var logs = new CapturingLoggers();
        await using var listener = new BgpListener(IpAddr.Parse("127.0.9.1"), 0, logs);
        listener.Start();
        // A noisy stranger first, then another: the first one's lines must not hide the second.
        foreach (var from in new[] { "127.0.9.3", "127.0.9.3", "127.0.9.3", "127.0.9.4", "127.0.9.4" })
        {
            await using var s = await ScriptedPeer.ConnectAsync(from, "127.0.9.1", listener.Port);
            // The listener closes a stranger's connection: reading sees the end.
            await s.ReadClosedAsync();
        }
        Assert.Equal(
            ["127.0.9.3", "127.0.9.4"],
            logs.Warnings.Where(w => w.Contains("Unexpected connect from unknown address", StringComparison.Ordinal))
                .Select(w => w.Split(' ')[6]));
    }
}
