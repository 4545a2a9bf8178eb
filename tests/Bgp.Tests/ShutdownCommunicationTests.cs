using System.Net;
using System.Text;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>RFC 9003 shutdown communication: its encoding, and a session that sends and receives one. Loopback 127.0.9.x.</summary>
public class ShutdownCommunicationTests
{
    [Fact]
    public void A_message_is_a_length_octet_and_utf8()
    {
        var data = ShutdownCommunication.Encode("maintenance window");
        Assert.Equal(18, data[0]);
        Assert.Equal("maintenance window", Encoding.UTF8.GetString(data.AsSpan(1)));
        Assert.Equal("maintenance window", ShutdownCommunication.TryDecode(data));
    }

    [Fact]
    public void A_long_message_is_cut_to_255_octets_at_a_character_boundary()
    {
        // 254 ASCII octets and a two-octet character: the character does not fit and goes whole.
        var data = ShutdownCommunication.Encode(new string('a', 254) + "é" + "tail");
        Assert.Equal(254, data[0]);
        Assert.Equal(new string('a', 254), ShutdownCommunication.TryDecode(data));

        // Three-octet characters: 85 of them fill 255 octets exactly.
        data = ShutdownCommunication.Encode(new string('€', 100));
        Assert.Equal(255, data[0]);
        Assert.Equal(new string('€', 85), ShutdownCommunication.TryDecode(data));

        // A four-octet character (a surrogate pair in .NET) is never split either.
        data = ShutdownCommunication.Encode(new string('b', 253) + "😀");
        Assert.Equal(253, data[0]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("00")]
    [InlineData("0561")]
    [InlineData("02C328")]
    public void What_rfc_9003_says_not_to_show_is_no_message(string hex) =>
        Assert.Null(ShutdownCommunication.TryDecode(Convert.FromHexString(hex)));

    [Fact]
    public void Only_administrative_shutdown_and_reset_carry_one()
    {
        Assert.True(ShutdownCommunication.Applies(NotificationCode.Cease, 2));
        Assert.True(ShutdownCommunication.Applies(NotificationCode.Cease, 4));
        Assert.False(ShutdownCommunication.Applies(NotificationCode.Cease, 3));
        Assert.False(ShutdownCommunication.Applies(NotificationCode.UpdateMessageError, 2));
    }

    [Fact]
    public async Task Disable_with_a_message_sends_it_and_a_received_one_becomes_the_protocols_message()
    {
        using var l = ScriptedPeer.Listen("127.0.9.2");
        var bgp = new BgpProtocol(new BgpProtocolOptions
        {
            Name = "shut",
            RouterId = 0x0A000001,
            LocalAs = 64512,
            PeerAs = 64513,
            NeighborAddress = IpAddr.Parse("127.0.9.2"),
            NeighborPort = ((IPEndPoint)l.LocalEndPoint!).Port,
            SourceAddress = IpAddr.Parse("127.0.0.1"),
            ConnectDelayTime = 0,
            ErrorWaitMin = 1,
            ErrorWaitMax = 1,
        }, new RoutingTable(), TimeProvider.System, NullLoggerFactory.Instance, null);
        await bgp.StartAsync(CancellationToken.None);
        try
        {
            // The neighbour resets with a message: it is the protocol's message now.
            await using (var first = await ScriptedPeer.AcceptAsync(l))
            {
                await first.HandshakeAsync(64513, 0x0A0000F1u, ScriptedPeer.Caps(asn: 64513));
                await first.SendAsync(w => NotificationMessage.Write(w, new BgpError(NotificationCode.Cease, 4, ShutdownCommunication.Encode("upgrading to 2.16"))));
                await Wait.UntilAsync(() => bgp.ReceivedShutdownMessage is not null, TimeSpan.FromSeconds(20), "the message received");
                Assert.Equal("upgrading to 2.16", bgp.ReceivedShutdownMessage);
                // The message is kept as the NOTIFICATION is read, the error once the FSM has taken it in.
                await Wait.UntilAsync(() => bgp.Snapshot().LastError is not null, TimeSpan.FromSeconds(20), "the error stored");
                Assert.Equal("Received: Administrative reset", bgp.Snapshot().LastError);
            }

            // Ours disables with a message: Cease 6/2 with the length octet and the text.
            await using var second = await ScriptedPeer.AcceptAsync(l);
            await second.HandshakeAsync(64513, 0x0A0000F1u, ScriptedPeer.Caps(asn: 64513));
            // Established first: a stop racing the read loop's handling of the peer's KEEPALIVE can lose
            // its NOTIFICATION (the FSM, stopped, answers that KEEPALIVE with a close).
            await Wait.UntilAsync(() => bgp.State == ProtocolState.Up, TimeSpan.FromSeconds(20), "Established again");
            var stop = bgp.StopAsync(restart: false, "maintenance window ✓", CancellationToken.None);
            var n = await second.ReadUntilAsync(MessageType.Notification);
            await stop;
            Assert.Equal((byte)NotificationCode.Cease, n[19]);
            Assert.Equal((byte)CeaseSubcode.AdministrativeShutdown, n[20]);
            var text = Encoding.UTF8.GetBytes("maintenance window ✓");
            Assert.Equal([(byte)text.Length, .. text], n[21..]);
        }
        finally
        {
            await bgp.StopAsync(CancellationToken.None);
        }
    }
}
