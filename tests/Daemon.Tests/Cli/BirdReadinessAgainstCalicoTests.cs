using Calico.Bgp.Cli.Health;
using Calico.Bgp.Daemon.Tests.Control;
using Calico.Bgp.Lab;

namespace Calico.Bgp.Daemon.Tests.Cli;

/// <summary>
/// <c>calico-bgpc health</c>'s port of calico-node's bird-ready (<see cref="BirdReadiness"/>) against
/// the tests' own model of Calico's Go (<see cref="CalicoParsers"/>), on BIRD's captured replies and
/// on our daemon's: the same peers, the same graceful-restart answer, the same verdict in and after
/// the start-up window. The two are kept apart on purpose (the model is the oracle the product's
/// port and the daemon's output must both satisfy); this is where they are held to each other.
/// </summary>
public class BirdReadinessAgainstCalicoTests
{
    private static IEnumerable<string> Lines(string raw) => raw.TrimEnd('\n').Split('\n');

    public static TheoryData<string> ProtocolReplies => new()
    {
        "bird1.6-show-protocols.txt",
        "bird1.6-nodeC-show-protocols.txt",
        "bird1.6-show-protocols-pattern.txt",
        // Both fail: an 8003 reply, and BIRD 2's heading (Calico reads BIRD 1.6 only).
        "bird1.6-show-protocols-pattern-nomatch.txt",
        "bird2-show-protocols.txt",
    };

    public static TheoryData<string> StatusReplies => new()
    {
        "bird1.6-show-status.txt",
        "bird1.6-show-status-gr-recovery.txt",
        "bird1.6-show-status-gr-recovery-established.txt",
        "bird1.6-show-status-reconfiguring.txt",
        "bird2-show-status.txt",
        "bird2-show-status-gr-recovery.txt",
    };

    /// <summary>The result, or "error" where the parser fails (Calico's Go returns an error; the probe fails).</summary>
    private static string Outcome<T>(Func<IEnumerable<T>> parse)
    {
        try
        {
            return string.Join(";", parse());
        }
        catch (FormatException)
        {
            return "error";
        }
    }

    private static void AssertSamePeers(string raw) =>
        Assert.Equal(
            Outcome(() => CalicoParsers.ScanBirdPeers(raw).Select(p => (p.PeerIp, p.Name, p.BgpState))),
            Outcome(() => BirdReadiness.ParsePeers(Lines(raw)).Select(p => (p.Address, p.Name, p.BgpState))));

    [Theory]
    [MemberData(nameof(ProtocolReplies))]
    public void Peers_are_read_as_calico_reads_them(string file) =>
        AssertSamePeers(File.ReadAllText(Path.Combine(Transcript.Directory, file)));

    [Fact]
    public void Ipv6_and_unusual_peer_names_are_read_as_calico_reads_them()
    {
        AssertSamePeers("""
            0001 BIRD 1.6.8 ready.
            2002-name     proto    table    state  since       info
            1002-Mesh_fd00__1 BGP      master   up     11:00:41    Established
             Node_2001_db8__a_1 BGP      master   start  10:59:43    Active        Socket: Connection refused
             Global_10_0_0_1 BGP      master   up     11:00:41    Established
             Mesh_10_0_0_1_2 BGP      master   up     11:00:41    Established
             static1  Static   master   up     10:59:43
             Other_10_0_0_9 BGP      master   up     11:00:41    Established
            0000 
            """);
    }

    [Theory]
    [MemberData(nameof(StatusReplies))]
    public void Graceful_restart_is_seen_as_calico_sees_it(string file)
    {
        var raw = File.ReadAllText(Path.Combine(Transcript.Directory, file));
        Assert.Equal(CalicoParsers.GrInProgress(raw), BirdReadiness.ParseStatus(Lines(raw)).GracefulRestart);
    }

    [Theory]
    [InlineData("bird1.6-show-protocols.txt", "bird1.6-show-status.txt")]
    [InlineData("bird1.6-show-protocols.txt", "bird1.6-show-status-gr-recovery.txt")]
    [InlineData("bird1.6-nodeC-show-protocols.txt", "bird1.6-show-status.txt")]
    [InlineData("bird1.6-show-protocols-pattern.txt", "bird1.6-show-status-gr-recovery-established.txt")]
    public void The_verdict_is_calicos_in_and_after_the_startup_window(string protocolsFile, string statusFile)
    {
        var protocols = File.ReadAllText(Path.Combine(Transcript.Directory, protocolsFile));
        var status = File.ReadAllText(Path.Combine(Transcript.Directory, statusFile));
        var peers = BirdReadiness.ParsePeers(Lines(protocols));
        var gr = BirdReadiness.ParseStatus(Lines(status)).GracefulRestart;
        foreach (var within in new[] { true, false })
        {
            var calicoReady = CalicoParsers.ReadinessError(protocols, within, () => status) is null;
            Assert.Equal(calicoReady, BirdReadiness.Decide(peers, within, gr).Ready);
        }
    }
}
