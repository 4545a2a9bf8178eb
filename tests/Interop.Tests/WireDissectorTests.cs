using System.Text.RegularExpressions;

namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// An independent decoder's opinion of our bytes on the wire: Wireshark's BGP dissector reads a
/// capture of a real session between ours and BIRD 2 and must find our OPEN, KEEPALIVE and UPDATE
/// messages (announcement and withdrawal) well formed. BIRD 2 accepting our messages shows only that
/// BIRD tolerates them; the dissector also flags lengths, flags and fields BIRD does not check.
/// </summary>
public sealed partial class WireDissectorTests
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(40);

    private static string OurConfig(bool withStatic) => $$"""
        router id 10.0.0.1;

        protocol kernel {
          learn;
          persist;
          scan time 2;
          import all;
          export all;
        }

        protocol device {
          scan time 2;
        }
        protocol direct { interface -"cali*", -"kube-ipvs*", "*"; }

        protocol static {
        {{(withStatic ? "  route 10.60.1.0/24 blackhole;" : "")}}
        }

        protocol bgp Node_10_0_0_2 {
          local as 64512;
          neighbor 10.0.0.2 as 64512;
          source address 10.0.0.1;
          connect delay time 1;
          connect retry time 2;
          error wait time 1,5;
          import all;
          export all;
        }
        """;

    [GeneratedRegex(@"^Frame \d+:", RegexOptions.Multiline)]
    private static partial Regex FrameStart();

    [GeneratedRegex(@"^\s*Type: (\w+) Message", RegexOptions.Multiline)]
    private static partial Regex MessageType();

    [Fact]
    public async Task Wiresharks_bgp_dissector_finds_our_open_keepalive_and_updates_well_formed()
    {
        await using var lab = await TestLab.CreateAsync("wire");
        var a = await lab.AddHostAsync("a");
        var b = await lab.AddHostAsync("b");
        await lab.ConnectAsync(a, "10.0.0.1/24", b, "10.0.0.2/24");
        var pcap = Path.Combine(a.Dir, "bgp.pcap");

        // The capture starts before either daemon, so the OPEN exchange is in it.
        var capture = a.Start("tshark", "tshark", ["-i", "eth0", "-w", pcap, "-f", "tcp port 179"]);
        await Wait.UntilAsync(() =>
        {
            if (capture.HasExited)
                throw new InvalidOperationException($"tshark exited with {capture.ExitCode}:\n{capture.Output}");
            return Task.FromResult(File.Exists(pcap) && capture.Output.Contains("Capturing on", StringComparison.Ordinal));
        }, TimeSpan.FromSeconds(20), "tshark to start capturing", () => Task.FromResult(capture.Output));
        // dumpcap prints its banner as it opens the interface; a moment more lets the filter attach.
        await Task.Delay(500);

        var bird = await BirdPeer.StartBird2Async(b, PeerConfigs.Bird2("10.0.0.2", "10.0.0.2", 64512, "10.0.0.1", 64512, "10.50.1.0/24"));
        var ours = await OurDaemon.StartAsync(a, OurConfig(withStatic: true));

        async Task<string> Describe() =>
            await a.RoutesTextAsync() + "\nours:\n" + await ours.CommandAsync("show protocols all") + "\nbird:\n"
            + await bird.CommandAsync("show protocols all peer1") + await bird.CommandAsync("show route") + lab.Diagnostics();

        await Wait.UntilAsync(async () =>
            await ours.IsEstablishedAsync("Node_10_0_0_2") && await bird.IsEstablishedAsync("peer1")
            && (await a.RoutesAsync()).Any(r => r.Dst == "10.50.1.0/24" && r.Gateway == "10.0.0.2")
            && (await bird.CommandAsync("show route")).Contains("10.60.1.0/24", StringComparison.Ordinal),
            Converge, "the session to establish and routes to be exchanged", Describe);

        // Ours withdraws its block too, so the capture holds an UPDATE with withdrawn routes from us.
        await ours.ReloadAsync(OurConfig(withStatic: false));
        await Wait.UntilAsync(async () => !(await bird.CommandAsync("show route")).Contains("10.60.1.0/24", StringComparison.Ordinal),
            Converge, "BIRD to see our withdrawal", Describe);

        // libpcap hands packets over in blocks, and packets still in a block when tshark stops are lost:
        // stop only once the file already holds our withdrawal, the last message of the scenario.
        await Wait.UntilAsync(async () =>
        {
            // The file is still being written, so its tail may be cut; what was read in full is printed all the same.
            var r = await Shell.RunAsync("tshark", ["-r", pcap, "-Y", "ip.src == 10.0.0.1 && bgp.withdrawn_prefix == 10.60.1.0", "-T", "fields", "-e", "frame.number"]);
            return r.StdOut.Trim().Length > 0;
        }, TimeSpan.FromSeconds(20), "our withdrawal to reach the capture file", () => Task.FromResult(capture.Output));

        // SIGINT, not SIGTERM's default kill path: tshark then flushes and closes the pcap cleanly.
        capture.Signal(2);
        Assert.True(await capture.WaitForExitAsync(TimeSpan.FromSeconds(15)), "tshark did not stop on SIGINT:\n" + capture.Output);

        var decoded = await Shell.RunAsync("tshark", ["-r", pcap, "-V", "-Y", "bgp"], TimeSpan.FromSeconds(60));
        Assert.True(decoded.Ok, $"tshark -r failed with {decoded.ExitCode}: {decoded.StdErr}");
        var frames = FrameStart().Split(decoded.StdOut).Where(f => f.Length > 0).Select(f => "Frame" + f).ToList();
        var ourFrames = frames.Where(f => f.Contains("Src: 10.0.0.1, Dst: 10.0.0.2", StringComparison.Ordinal)).ToList();
        var ourTypes = ourFrames.SelectMany(f => MessageType().Matches(f).Select(m => m.Groups[1].Value)).ToHashSet();
        var summary = $"our message types: [{string.Join(", ", ourTypes)}] in {ourFrames.Count} of {frames.Count} BGP frames";
        Assert.True(ourTypes.Contains("OPEN"), summary);
        Assert.True(ourTypes.Contains("KEEPALIVE"), summary);
        Assert.True(ourTypes.Contains("UPDATE"), summary);
        Assert.Contains(ourFrames, f => f.Contains("Withdrawn prefix: 10.60.1.0", StringComparison.Ordinal));

        // Every frame the dissector objects to, with its whole decode, so the failure names the bytes at fault.
        var flagged = frames.Where(f =>
            f.Contains("Malformed", StringComparison.Ordinal)
            || f.Contains("[Expert Info (Error", StringComparison.Ordinal)
            || f.Contains("Dissector bug", StringComparison.Ordinal)).ToList();
        Assert.True(flagged.Count == 0, $"{flagged.Count} BGP frames flagged by the dissector:\n{string.Join("\n", flagged)}");
    }
}
