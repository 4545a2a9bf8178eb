namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// RFC 9003 shutdown communication against BIRD 2, both ways: <c>disable</c> and <c>restart</c> with
/// a message on our control socket reach BIRD as Cease 6/2 and 6/4 with the text (BIRD shows it as
/// its <c>Message:</c>), and BIRD's <c>disable NAME "text"</c> shows on ours as BIRD 1.6 shows a
/// received Cease, with the text as the protocol's <c>Message:</c>.
/// </summary>
public class ShutdownCommunicationTests
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(60);
    private const string Ours = "Node_10_0_0_2";
    private const string Bird = "peer1";

    private static string OurConfig => $$"""
        router id 10.0.0.1;
        protocol device { scan time 2; }
        protocol static { route 10.60.1.0/24 blackhole; }
        protocol bgp {{Ours}} {
          local as 64512;
          neighbor 10.0.0.2 as 64512;
          source address 10.0.0.1;
          connect delay time 2;
          connect retry time 5;
          error wait time 5,30;
          import all;
          export all;
        }
        """;

    /// <summary>BIRD 2 logging to stderr (the lab keeps it), so what it received is in its log.</summary>
    private const string BirdConfig = """
        log stderr all;
        router id 10.0.0.2;
        protocol device { scan time 2; }
        protocol static { ipv4; route 10.50.1.0/24 blackhole; }
        protocol bgp peer1 {
          local 10.0.0.2 as 64512;
          neighbor 10.0.0.1 as 64512;
          connect retry time 1;
          error wait time 1,5;
          direct;
          ipv4 { import all; export all; };
        }
        """;

    [Fact]
    public async Task Shutdown_messages_cross_the_wire_both_ways()
    {
        await using var lab = await TestLab.CreateAsync("shutdown-comm");
        var a = await lab.AddHostAsync("a");
        var b = await lab.AddHostAsync("b");
        await lab.ConnectAsync(a, "10.0.0.1/24", b, "10.0.0.2/24");
        var bird = await BirdPeer.StartBird2Async(b, BirdConfig);
        var ours = await OurDaemon.StartAsync(a, OurConfig);
        async Task<string> Describe() => await ours.CommandAsync("show protocols all") + await bird.CommandAsync("show protocols all") + lab.Diagnostics();
        async Task BothUpAsync(string what) =>
            await Wait.UntilAsync(async () => await ours.IsEstablishedAsync(Ours) && await bird.IsEstablishedAsync(Bird), Converge, what, Describe);
        await BothUpAsync("the session to establish");

        // disable "msg": Cease 6/2 with the text; BIRD shows both.
        Assert.Contains($"{Ours}: disabled", await ours.CommandAsync($"disable {Ours} \"maintenance window 42\""), StringComparison.Ordinal);
        await Wait.UntilAsync(async () => (await bird.CommandAsync($"show protocols all {Bird}")).Contains("Message:        maintenance window 42", StringComparison.Ordinal),
            Converge, "BIRD to show our shutdown communication", Describe);
        Assert.Contains(bird.Process!.Output.Split('\n'), l => l.Contains("peer1: Received: Administrative shutdown: \"maintenance window 42\"", StringComparison.Ordinal));
        // Ours shows its own message as BIRD 1.6 does.
        Assert.Contains("  Message:        maintenance window 42", await ours.CommandAsync($"show protocols all {Ours}"), StringComparison.Ordinal);

        Assert.Contains($"{Ours}: enabled", await ours.CommandAsync($"enable {Ours}"), StringComparison.Ordinal);
        await BothUpAsync("the session back after enable");

        // restart "msg": Cease 6/4 (Administrative reset) with the text, and the session comes back.
        Assert.Contains($"{Ours}: restarted", await ours.CommandAsync($"restart {Ours} \"new kernel\""), StringComparison.Ordinal);
        await Wait.UntilAsync(async () => (await bird.CommandAsync($"show protocols all {Bird}")).Contains("Message:        new kernel", StringComparison.Ordinal),
            Converge, "BIRD to show the reset's message", Describe);
        Assert.Contains(bird.Process.Output.Split('\n'), l => l.Contains("peer1: Received: Administrative reset: \"new kernel\"", StringComparison.Ordinal));
        await BothUpAsync("the session back after restart");

        // The other way: BIRD disables with a message.
        Assert.Contains("disabled", await bird.CommandAsync($"disable {Bird} \"bird says bye\""), StringComparison.Ordinal);
        // BIRD 1.6's view of a received Cease: state start, the BGP state, then "Received: ..." as
        // the info and the last error, until ours tries again (error wait and connect delay, 7 s).
        // The message is kept as the NOTIFICATION is read; the protocol leaves "up" once the session's
        // routes are flushed just after, so wait for both rather than read the moment in between.
        var all = "";
        string Row() => all.Split('\n').Single(l => l.StartsWith(Ours, StringComparison.Ordinal));
        await Wait.UntilAsync(async () =>
        {
            all = await ours.CommandAsync($"show protocols all {Ours}");
            return all.Contains("Message:        bird says bye", StringComparison.Ordinal) && !Row().Contains(" up ", StringComparison.Ordinal);
        }, Converge, "ours to show BIRD's message with the session down", Describe);
        Assert.Matches(@"^Node_10_0_0_2 +BGP +master +start +\S+ +(Active|Connect|Idle) +Received: Administrative shutdown\s*$", Row());
        Assert.Contains("    Last error:       Received: Administrative shutdown", all, StringComparison.Ordinal);
        Assert.Contains(ours.Process!.Output.Split('\n'), l => l.Contains("Administrative shutdown: \"bird says bye\"", StringComparison.Ordinal));

        // BIRD comes back; ours keeps the message, as BIRD keeps a received one.
        Assert.Contains("enabled", await bird.CommandAsync($"enable {Bird}"), StringComparison.Ordinal);
        await BothUpAsync("the session back after BIRD's enable");
        Assert.Contains("Message:        bird says bye", await ours.CommandAsync($"show protocols all {Ours}"), StringComparison.Ordinal);
    }
}
