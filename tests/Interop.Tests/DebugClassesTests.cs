using System.Text.Json;

namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// BIRD's per-protocol debug classes on a real session: our daemon (JSON log) with
/// <c>debug { states, routes, filters, events, packets }</c> on its BGP protocol and <c>debug off</c>
/// on the others, peering with BIRD 2. The log has each FSM transition once and in order, the
/// protocol's own states, the routes BIRD 2 sends with the import filter's verdicts, and the
/// KEEPALIVEs both ways; the quiet protocols write no Debug line; <c>debug bgp1 off</c> stops them.
/// </summary>
public class DebugClassesTests
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(40);

    private const string OurConfig = """
        router id 10.0.0.1;

        protocol device device1 {
          debug off;
          scan time 2;
        }

        protocol static static1 {
          debug off;
          route 10.60.1.0/24 blackhole;
        }

        protocol bgp bgp1 {
          debug { states, routes, filters, events, packets };
          local as 64512;
          neighbor 10.0.0.2 as 64512;
          source address 10.0.0.1;
          connect delay time 2;
          connect retry time 5;
          error wait time 5,30;
          # Short timers, so KEEPALIVEs flow every 2 s each way.
          hold time 6;
          keepalive time 2;
          import filter {
            if net = 10.50.2.0/24 then reject;
            accept;
          };
          export all;
        }
        """;

    // BIRD 2 waits for us (passive), so one connection only: its FSM's transitions are the log's.
    // Its own packet trace counts the KEEPALIVEs it gets from us.
    private const string BirdConfig = """
        router id 10.0.0.2;
        log stderr all;
        protocol device { scan time 2; }
        protocol static {
          ipv4;
          route 10.50.1.0/24 blackhole;
          route 10.50.2.0/24 blackhole;
        }
        protocol bgp peer1 {
          local 10.0.0.2 as 64512;
          neighbor 10.0.0.1 as 64512;
          passive on;
          direct;
          debug { packets };
          ipv4 { import all; export all; };
        }
        """;

    private sealed record Line(string Category, int EventId, string Level, string Message);

    /// <summary>Our daemon's JSON log lines so far (other output, such as BIRD-style text, is skipped).</summary>
    private static List<Line> Log(OurDaemon ours)
    {
        var lines = new List<Line>();
        foreach (var text in ours.Process!.Output.Split('\n'))
        {
            var t = text.Trim();
            if (!t.StartsWith('{'))
                continue;
            try
            {
                var j = JsonDocument.Parse(t).RootElement;
                lines.Add(new Line(j.GetProperty("Category").GetString()!, j.GetProperty("EventId").GetInt32(), j.GetProperty("LogLevel").GetString()!, j.GetProperty("Message").GetString()!));
            }
            catch (JsonException)
            {
                // A line cut by the output buffer's trim: not one of ours to judge.
            }
        }
        return lines;
    }

    private static List<string> Debug(List<Line> log, string protocol) =>
        [.. log.Where(l => l.Category == "Calico.Bgp.Protocol." + protocol && l.Level == "Debug").Select(l => l.Message)];

    private static int BirdGotKeepalives(BirdPeer bird) =>
        bird.Process!.Output.Split('\n').Count(l => l.Contains("peer1: Got KEEPALIVE", StringComparison.Ordinal));

    [Fact]
    public async Task Debug_classes_of_one_protocol_write_its_states_routes_filters_events_and_packets()
    {
        await using var l = await BirdNeighbourLab.StartAsync("dbg", OurConfig, BirdConfig, ourArgs: ["--log-format", "json"]);
        var (lab, bird, ours) = (l.Lab, l.Bird, l.Ours);

        async Task<string> Describe() =>
            await ours.CommandAsync("show protocols all bgp1") + "\nbird:\n" + await bird.CommandAsync("show protocols all peer1")
            + "\nours' bgp1 debug lines:\n" + string.Join('\n', Debug(Log(ours), "bgp1")) + lab.Diagnostics();

        bool Has(string line) => Debug(Log(ours), "bgp1").Contains(line);
        // Every line asserted on below is waited for: the End-of-RIB is written on the update group's
        // thread after the routes' lines, so a wait on the routes alone can pass between the two.
        await Wait.UntilAsync(async () =>
            await ours.IsEstablishedAsync("bgp1")
            && Has("bgp1 > added 10.50.1.0/24 via 10.0.0.2") && Has("bgp1 > filtered out 10.50.2.0/24")
            && Has("bgp1: Got KEEPALIVE (19 bytes)") && Has("bgp1: Sending KEEPALIVE (19 bytes)")
            && Has("bgp1 < added 10.60.1.0/24 via 10.0.0.1") && Has("bgp1: Sending End-of-RIB"),
            Converge, "the session to establish and every class to have written", Describe);

        var log = Log(ours);
        var bgp1 = Debug(log, "bgp1");
        // States: the protocol's (start, up) and the FSM's, each transition once, chained from Idle
        // and ending in the successful connection's OpenSent → OpenConfirm → Established.
        Assert.Equal(["bgp1: State changed to start", "bgp1: State changed to up"],
            log.Where(l => l.Category == "Calico.Bgp.Protocol.bgp1" && l.EventId == 1000).Select(l => l.Message));
        var fsm = log.Where(l => l.Category == "Calico.Bgp.Protocol.bgp1" && l.EventId == 1001).Select(l => l.Message).ToList();
        var steps = fsm.Select(m => m.Split(' ')).Select(w => (From: w[^3], To: w[^1])).ToList();
        Assert.Equal("Idle", steps[0].From);
        for (var i = 1; i < steps.Count; i++)
            Assert.Equal(steps[i - 1].To, steps[i].From);
        Assert.Equal(
            [
                "bgp1: BGP state changed from Connect to OpenSent", "bgp1: BGP state changed from OpenSent to OpenConfirm",
                "bgp1: BGP state changed from OpenConfirm to Established",
            ], fsm[^3..]);
        Assert.Equal(1, fsm.Count(m => m.EndsWith("to Established", StringComparison.Ordinal)));
        // Routes and filters: what BIRD 2 sent, through our import filter; what we sent it.
        Assert.Single(bgp1, "bgp1 > added 10.50.1.0/24 via 10.0.0.2");
        Assert.Contains("bgp1 > accepted by import filter 10.50.1.0/24", bgp1);
        Assert.DoesNotContain(bgp1, l => l.StartsWith("bgp1 > added 10.50.2.0/24", StringComparison.Ordinal));
        // Events: the connection and the session.
        Assert.Contains("bgp1: Connecting to 10.0.0.2 from local address 10.0.0.1", bgp1);
        Assert.Contains("bgp1: BGP session established", bgp1);
        Assert.Contains("bgp1: Sending End-of-RIB", bgp1);
        // Packets: the OPENs both ways.
        Assert.Contains(bgp1, l => l.StartsWith("bgp1: Sending OPEN (", StringComparison.Ordinal));
        Assert.Contains(bgp1, l => l.StartsWith("bgp1: Got OPEN (", StringComparison.Ordinal));
        Assert.Contains(bgp1, l => l.StartsWith("bgp1: Got UPDATE (", StringComparison.Ordinal));
        // The protocols with debug off: not one Debug line, though they started and routed.
        Assert.Empty(Debug(log, "static1"));
        Assert.Empty(Debug(log, "device1"));
        // Our static route at BIRD 2: the End-of-RIB line above is ours, written as it is sent, so BIRD 2
        // may not have read the UPDATE yet.
        await Wait.UntilAsync(async () => (await bird.CommandAsync("show route")).Contains("10.60.1.0/24", StringComparison.Ordinal),
            Converge, "BIRD 2 to hold our 10.60.1.0/24", Describe);

        // `debug bgp1 off` answers as BIRD does (nothing but the final 0000), and bgp1 goes quiet:
        // BIRD 2 receives two more KEEPALIVEs from us, yet none is in our log.
        var reply = await ours.CommandAsync("debug bgp1 off");
        var birdReply = await bird.CommandAsync("debug peer1 { packets }");
        Assert.Equal(AfterBanner(birdReply), AfterBanner(reply));
        var before = Debug(Log(ours), "bgp1").Count;
        var got = BirdGotKeepalives(bird);
        await Wait.UntilAsync(() => Task.FromResult(BirdGotKeepalives(bird) >= got + 2), Converge, "BIRD 2 to get two more KEEPALIVEs from us", Describe);
        Assert.True(await ours.IsEstablishedAsync("bgp1"), await Describe());
        Assert.Equal(before, Debug(Log(ours), "bgp1").Count);
    }

    /// <summary>What birdc printed after its "BIRD … ready." banner.</summary>
    private static string AfterBanner(string output) =>
        string.Join('\n', output.Split('\n').Where(l => !l.Contains("ready.", StringComparison.Ordinal)).Select(l => l.TrimEnd())).Trim();
}
