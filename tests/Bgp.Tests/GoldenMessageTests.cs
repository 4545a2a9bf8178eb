using System.Runtime.CompilerServices;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>
/// OPEN and UPDATE messages captured from real BIRD 2, GoBGP and FRR peers (Golden/README.md),
/// decoded by our codec: the bytes come from other implementations, not from our encoder.
/// </summary>
public class GoldenMessageTests
{
    private static string GoldenDir([CallerFilePath] string here = "") => Path.Combine(Path.GetDirectoryName(here)!, "Golden");

    private static byte[] Load(string name) => Convert.FromHexString(File.ReadAllText(Path.Combine(GoldenDir(), name)).Trim());

    public static TheoryData<string> Peers => new() { "bird2", "gobgp", "frr" };

    [Theory]
    [MemberData(nameof(Peers))]
    public void Open_of_a_real_peer_decodes(string peer)
    {
        var m = Load($"{peer}-open1.hex");
        Assert.Equal(MessageType.Open, (MessageType)m[18]);
        Assert.True(OpenMessage.TryParse(m.AsSpan(BgpConstants.HeaderLength), out var open, out var error), error?.Description);
        Assert.Equal(64513u, open!.AutonomousSystem);
        Assert.Equal(0x0A000902u, open.RouterId);
        Assert.Contains(AfiSafi.Ipv4Unicast, open.Capabilities.Families);
        Assert.True(open.Capabilities.RouteRefresh);
        Assert.Equal(64513u, open.Capabilities.FourOctetAs);
        var caps = open.Capabilities.Describe();
        switch (peer)
        {
            case "bird2":
                // BIRD 2's defaults: restart-aware and LLGR-aware, both without families.
                Assert.Equal("refresh enhanced-refresh restart-aware llgr-aware AS4", caps);
                break;
            case "frr":
                // FRR lists IPv4 in LLGR (RFC 9494) and sends no GR families: restart-aware, llgr-able.
                Assert.Contains("llgr-able", caps, StringComparison.Ordinal);
                Assert.Contains(AfiSafi.Ipv4Unicast, open.Capabilities.LongLivedGracefulRestartFamilies);
                Assert.Contains("add-path", caps, StringComparison.Ordinal);
                break;
            default:
                Assert.StartsWith("refresh", caps, StringComparison.Ordinal);
                break;
        }
    }

    [Theory]
    [MemberData(nameof(Peers))]
    public void Updates_of_a_real_peer_decode_to_the_announced_routes(string peer)
    {
        var routes = new Dictionary<Prefix, PathAttributes>();
        var codec = new BgpCodec(true, false, AddPathMode.None, AddPathMode.None);
        foreach (var file in new[] { $"{peer}-update1.hex", $"{peer}-update2.hex" })
        {
            var m = Load(file);
            Assert.True(UpdateMessage.TryParse(m.AsSpan(BgpConstants.HeaderLength), out var u, out var error), error?.Description);
            var d = AttributeDecoder.Decode(u.Attributes, codec, new DecodeContext(false, IpAddr.Parse("10.0.9.2")), !u.Nlri.IsEmpty);
            Assert.Equal(ErrorAction.None, d.Action);
            foreach (var n in new NlriReader(u.Nlri, false, false))
                routes[n.Prefix] = d.Attributes;
        }
        Assert.Equal(2, routes.Count);
        var first = routes[Prefix.Parse("10.50.1.0/24")];
        var second = routes[Prefix.Parse("10.50.2.0/24")];
        Assert.Equal(IpAddr.Parse("10.0.9.2"), first.NextHop);
        Assert.Equal(IpAddr.Parse("10.0.9.2"), second.NextHop);
        Assert.Equal("64513", first.AsPath!.ToString());
        Assert.Contains(new Community(64513, 100), first.Communities);
        Assert.True(second.Communities.IsDefaultOrEmpty);
        // BIRD's static MED is not sent to an eBGP peer; GoBGP and FRR send theirs.
        Assert.Equal(peer == "bird2" ? null : 20u, first.Med);
    }
}
