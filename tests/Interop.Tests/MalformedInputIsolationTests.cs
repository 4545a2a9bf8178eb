namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// Malformed UPDATEs from one peer cost that peer only (RFC 7606): a raw peer sends attributes
/// that RFC 7606 says to treat as a withdrawal (its session stays, the prefix goes) and UPDATEs
/// that must reset the session (it gets the NOTIFICATION with the right code, subcode and data),
/// while a BIRD 2 peer of the same daemon keeps its session, uptime and routes in table and kernel.
/// </summary>
public class MalformedInputIsolationTests
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(60);
    private const string Bird = "Node_10_0_0_2";
    private const string Raw = "Node_10_0_1_2";
    private static readonly string[] BirdBlocks = ["10.50.1.0/24", "10.50.2.0/24", "10.50.3.0/24"];

    private static string OurConfig => $$"""
        router id 10.0.0.1;
        protocol device { scan time 2; }
        protocol direct { interface -"cali*", -"kube-ipvs*", "*"; }
        protocol kernel { scan time 2; import none; export all; }
        protocol bgp {{Bird}} {
          local as 64512;
          neighbor 10.0.0.2 as 64512;
          source address 10.0.0.1;
          connect delay time 2;
          connect retry time 5;
          error wait time 5,30;
          import all;
          export all;
        }
        protocol bgp {{Raw}} {
          local as 64512;
          neighbor 10.0.1.2 as 64513;
          source address 10.0.1.1;
          connect delay time 2;
          connect retry time 5;
          error wait time 5,30;
          import all;
          export none;
        }
        """;

    /// <summary>An UPDATE announcing <paramref name="prefix"/> with the plain attributes, then <paramref name="after"/>.</summary>
    private static byte[] Announce(string prefix, byte[]? after = null) =>
        RawBgpPeer.UpdateMessage([], [.. RawBgpPeer.BasicAttributes(64513, "10.0.1.2"), .. after ?? []], RawBgpPeer.Prefix(prefix));

    /// <summary>An UPDATE whose ORIGIN has the undefined value 3 (RFC 4271 §4.3 defines 0..2).</summary>
    private static byte[] AnnounceWithBadOrigin(string prefix) =>
        RawBgpPeer.UpdateMessage([], [.. RawBgpPeer.Attribute(0x40, 1, 3), .. RawBgpPeer.BasicAttributes(64513, "10.0.1.2")[4..]], RawBgpPeer.Prefix(prefix));

    /// <summary>
    /// Connects and completes the handshake, retrying while ours drops connections (it does during
    /// its error wait after a reset, as BIRD does).
    /// </summary>
    private static async Task<RawBgpPeer> ConnectRawAsync(LabHost c)
    {
        var until = DateTime.UtcNow + Converge;
        while (true)
        {
            RawBgpPeer? peer = null;
            try
            {
                peer = await RawBgpPeer.ConnectAsync(c, "10.0.1.2", "10.0.1.1");
                await peer.HandshakeAsync(64513, "10.0.1.2");
                return peer;
            }
            catch (Exception e) when (DateTime.UtcNow < until && e is InvalidOperationException or IOException or System.Net.Sockets.SocketException or TimeoutException)
            {
                if (peer is not null)
                    await peer.DisposeAsync();
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
    }

    private static async Task<bool> InTableAsync(OurDaemon ours, string prefix) =>
        (await ours.CommandAsync($"show route {prefix} protocol {Raw}")).Contains(prefix.Split('/')[0], StringComparison.Ordinal);

    private static async Task<bool> InKernelAsync(LabHost host, string prefix) =>
        (await host.RoutesAsync()).Any(r => r.Dst == prefix && r.Protocol == "bird");

    [Fact]
    public async Task Malformed_updates_from_one_peer_leave_the_other_untouched()
    {
        await using var l = await BirdNeighbourLab.StartAsync("malformed-isolation", OurConfig,
            PeerConfigs.Bird2("10.0.0.2", "10.0.0.2", 64512, "10.0.0.1", 64512, BirdBlocks), withC: true);
        var (a, c, ours) = (l.A, l.C, l.Ours);
        Task<string> Describe() => l.DescribeAsync("show protocols all", "show route all");

        async Task<bool> BirdIntactAsync()
        {
            var routes = await a.RoutesAsync();
            return BirdBlocks.All(p => routes.Any(r => r.Dst == p && r.Protocol == "bird" && r.Gateway == "10.0.0.2"))
                && (await ours.CommandAsync($"show route protocol {Bird}")).Split('\n').Count(l => l.StartsWith("10.50.", StringComparison.Ordinal)) == BirdBlocks.Length;
        }

        await Wait.UntilAsync(async () => await ours.IsEstablishedAsync(Bird) && await BirdIntactAsync(), Converge, "BIRD's routes in table and kernel", Describe);
        var birdSince = ProtocolSince.Of(await ours.CommandAsync("show protocols"), Bird);
        async Task AssertBirdUntouchedAsync()
        {
            Assert.Equal(birdSince, ProtocolSince.Of(await ours.CommandAsync("show protocols"), Bird));
            Assert.True(await ours.IsEstablishedAsync(Bird));
            Assert.True(await BirdIntactAsync(), await Describe());
        }

        var raw = await ConnectRawAsync(c);
        try
        {
            await Wait.UntilAsync(() => ours.IsEstablishedAsync(Raw), Converge, "the raw peer's session", Describe);
            await raw.SendAsync(Announce("10.80.1.0/24"));
            await raw.SendAsync(Announce("10.80.2.0/24"));
            await Wait.UntilAsync(async () => await InKernelAsync(a, "10.80.1.0/24") && await InKernelAsync(a, "10.80.2.0/24"), Converge, "the raw peer's routes", Describe);
            var rawSince = ProtocolSince.Of(await ours.CommandAsync("show protocols"), Raw);

            // RFC 7606 §7.1: an ORIGIN of 3 is treat-as-withdraw: 10.80.1.0/24 goes, the session stays.
            await raw.SendAsync(AnnounceWithBadOrigin("10.80.1.0/24"));
            // RFC 7606 §4: a COMMUNITIES length running past the attribute field: treat-as-withdraw too.
            await raw.SendAsync(Announce("10.80.2.0/24", after: [0xC0, 8, 0x10, 0, 1]));
            await Wait.UntilAsync(async () => !await InTableAsync(ours, "10.80.1.0/24") && !await InTableAsync(ours, "10.80.2.0/24")
                && !await InKernelAsync(a, "10.80.1.0/24") && !await InKernelAsync(a, "10.80.2.0/24"), Converge, "both prefixes withdrawn", Describe);
            Assert.Equal(rawSince, ProtocolSince.Of(await ours.CommandAsync("show protocols"), Raw));
            Assert.True(await ours.IsEstablishedAsync(Raw));
            // A later good UPDATE is taken as ever.
            await raw.SendAsync(Announce("10.80.3.0/24"));
            await Wait.UntilAsync(() => InKernelAsync(a, "10.80.3.0/24"), Converge, "a good route after the bad ones", Describe);
            await AssertBirdUntouchedAsync();

            // RFC 4271 §6.3: an unrecognized well-known attribute (type 80) resets the session with
            // 3/2 and the attribute itself as the data.
            byte[] unknown = [0x40, 80, 1, 0];
            await raw.SendAsync(Announce("10.80.4.0/24", unknown));
            var n = await raw.ReadUntilAsync(RawBgpPeer.Notification, Converge);
            Assert.NotNull(n);
            Assert.Equal([3, 2, .. unknown], n[19..]);
            Assert.Null(await raw.ReadAsync(TimeSpan.FromSeconds(30)));
            await Wait.UntilAsync(async () => !await InKernelAsync(a, "10.80.3.0/24"), Converge, "the reset peer's routes withdrawn", Describe);
            Assert.Contains("BGP Error: Unrecognized well-known attribute", await ours.CommandAsync($"show protocols all {Raw}"), StringComparison.Ordinal);
            await AssertBirdUntouchedAsync();
        }
        finally
        {
            await raw.DisposeAsync();
        }

        // Back after the error wait. A path attribute length past the end of the UPDATE: the fields
        // cannot be told apart, so 3/1 (Malformed Attribute List), no data.
        raw = await ConnectRawAsync(c);
        try
        {
            await Wait.UntilAsync(() => ours.IsEstablishedAsync(Raw), Converge, "the raw peer's session again", Describe);
            var update = Announce("10.80.5.0/24");
            update[21] = 0xFF; // total path attribute length (octets 21-22): over 65280, past the message
            await raw.SendAsync(update);
            var n = await raw.ReadUntilAsync(RawBgpPeer.Notification, Converge);
            Assert.NotNull(n);
            Assert.Equal(21, n.Length);
            Assert.Equal([3, 1], n[19..]);
            Assert.Null(await raw.ReadAsync(TimeSpan.FromSeconds(30)));
            Assert.False(await InTableAsync(ours, "10.80.5.0/24"));
            Assert.Contains("BGP Error: Malformed attribute list", await ours.CommandAsync($"show protocols all {Raw}"), StringComparison.Ordinal);
            await AssertBirdUntouchedAsync();
        }
        finally
        {
            await raw.DisposeAsync();
        }
        Assert.False(ours.Process!.HasExited);
    }
}
