using System.Net;
using System.Net.Sockets;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>A raw TCP client sends a bad message and reads the NOTIFICATION back (loopback only).</summary>
public class MalformedMessageTests
{
    [Theory]
    [InlineData("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00001304", 1, 1)]
    [InlineData("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF001209", 1, 2)]
    [InlineData("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF001309", 1, 3)]
    [InlineData("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF001D0103FC0000F00A00000200", 2, 1)]
    public async Task Bad_message_gets_the_right_notification(string hex, byte code, byte subcode)
    {
        var table = new RoutingTable();
        await using var listener = new BgpListener(IpAddr.Parse("127.0.0.1"), 0, NullLoggerFactory.Instance);
        var options = new BgpProtocolOptions
        {
            Name = "peer",
            RouterId = 0x0A000001,
            LocalAs = 64512,
            PeerAs = 64512,
            NeighborAddress = IpAddr.Parse("127.0.0.1"),
            Passive = true,
            ConnectDelayTime = 0,
        };
        var bgp = new BgpProtocol(options, table, TimeProvider.System, NullLoggerFactory.Instance, listener);
        listener.Start();
        await bgp.StartAsync(CancellationToken.None);
        try
        {
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, listener.Port));
            var buffer = new byte[4096];
            // Our OPEN comes first.
            var got = await ReadMessageAsync(client, buffer);
            Assert.Equal(1, buffer[18]);
            await client.SendAsync(Convert.FromHexString(hex));
            got = await ReadMessageAsync(client, buffer);
            Assert.Equal(3, buffer[18]);
            Assert.Equal(code, buffer[19]);
            Assert.Equal(subcode, buffer[20]);
            Assert.True(got >= 21);
            await Wait.UntilAsync(() => bgp.Info.Contains("BGP Error:", StringComparison.Ordinal), TimeSpan.FromSeconds(5), "last error");
        }
        finally
        {
            await bgp.StopAsync(CancellationToken.None);
        }
    }

    private static async Task<int> ReadMessageAsync(Socket s, byte[] buffer)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var n = 0;
        while (n < 19)
            n += await ReadSomeAsync(s, buffer.AsMemory(n, 19 - n), cts.Token);
        var len = (buffer[16] << 8) | buffer[17];
        while (n < len)
            n += await ReadSomeAsync(s, buffer.AsMemory(n, len - n), cts.Token);
        return len;
    }

    private static async Task<int> ReadSomeAsync(Socket s, Memory<byte> m, CancellationToken ct)
    {
        var r = await s.ReceiveAsync(m, ct);
        return r == 0 ? throw new IOException("closed") : r;
    }
}
