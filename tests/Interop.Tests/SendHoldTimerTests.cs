using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// RFC 9687 on the wire: a peer that completes the handshake and keeps sending KEEPALIVEs but never
/// reads, while ours has 100 000 routes (learned from BIRD 2) for it. Ours drops it when the send hold time passes without
/// progress, its memory stays bounded meanwhile, and a BIRD 2 peer of the same daemon never notices.
/// </summary>
public partial class SendHoldTimerTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(120);
    private const int Routes = 100_000;
    private const string Healthy = "Node_10_0_0_2";
    private const string Stalled = "Stalled";
    private const int MetricsPort = 9649;
    private const string Code8Sent = $"calico_bgp_session_notifications_sent_total{{protocol=\"{Stalled}\",code=\"8\",subcode=\"0\"}}";

    /// <summary>Bound on the daemon's resident memory while the stalled peer is connected (measured: see docs/reliability.md).</summary>
    private const long RssBoundKiB = 256 * 1024;

    private static string Ours() => $$"""
        router id 10.0.0.1;
        protocol device { scan time 2; }
        protocol static {
          route 10.60.1.0/24 blackhole;
        }
        protocol bgp {{Healthy}} {
          local as 64512;
          neighbor 10.0.0.2 as 64512;
          source address 10.0.0.1;
          connect delay time 2;
          connect retry time 5;
          error wait time 5,30;
          import all;
          export all;
        }
        protocol bgp {{Stalled}} {
          local as 64512;
          neighbor 10.0.1.2 as 64513;
          source address 10.0.1.1;
          hold time 90;
          send hold time 10;
          connect delay time 2;
          connect retry time 5;
          error wait time 5,30;
          import all;
          export all;
        }
        """;

    /// <summary>BIRD 2 feeding ours the table it passes on to the stalled peer.</summary>
    private static string Bird()
    {
        var sb = new StringBuilder();
        for (var i = 0; i < Routes; i++)
            sb.Append("  route 10.").Append(128 + i / 65536).Append('.').Append(i / 256 % 256).Append('.').Append(i % 256).Append("/32 blackhole;\n");
        return $$"""
            router id 10.0.0.2;
            protocol device { scan time 2; }
            protocol static {
              ipv4;
            {{sb}}}
            protocol bgp peer1 {
              local 10.0.0.2 as 64512;
              neighbor 10.0.0.1 as 64512;
              connect retry time 1;
              direct;
              ipv4 { import all; export all; };
            }
            """;
    }

    [GeneratedRegex(@"(\d+) of \d+ routes for \d+ networks")]
    private static partial Regex RouteCount();

    private static async Task<int> CountAsync(Func<string, Task<string>> command, string what)
    {
        var m = RouteCount().Match(await command(what));
        return m.Success ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : -1;
    }

    /// <summary>The daemon's Prometheus scrape, fetched inside its namespace with bash's /dev/tcp.</summary>
    private static async Task<string> ScrapeAsync(LabHost host)
    {
        var r = await host.RunAsync("bash", "-c", $"exec 3<>/dev/tcp/127.0.0.1/{MetricsPort}; printf 'GET /metrics HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3; cat <&3");
        return r.StdOut;
    }

    private static double Counter(string scrape, string series) =>
        scrape.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith(series + " ", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(series.Length + 1)..], CultureInfo.InvariantCulture)).FirstOrDefault();

    [Fact]
    public async Task A_peer_that_stops_reading_is_dropped_with_send_hold_timer_expired_and_the_others_do_not_notice()
    {
        await using var l = await BirdNeighbourLab.StartAsync("send-hold", Ours(), Bird(), withC: true, ourArgs: ["--metrics", $"127.0.0.1:{MetricsPort}"]);
        var (a, c, bird, ours) = (l.A, l.C, l.Bird, l.Ours);
        async Task<string> Describe() => await bird.CommandAsync("show protocols all") + await l.DescribeAsync("show protocols all");

        // The healthy peer has the whole table both ways before the stall begins.
        await Wait.UntilAsync(async () => await CountAsync(bird.CommandAsync, "show route count") == Routes + 1
            && await CountAsync(ours.CommandAsync, $"show route protocol {Healthy} count") == Routes, Converge, "both tables complete", Describe);
        var since = ProtocolSince.Of(await ours.CommandAsync("show protocols"), Healthy);
        var pid = ours.Process!.Pid;
        var rssBefore = ProcStatus.RssKiB(pid);

        // The stalled peer: a 4 KiB receive window, the handshake, then KEEPALIVEs and never a read.
        await using var stalled = await RawBgpPeer.ConnectAsync(c, "10.0.1.2", "10.0.1.1", receiveBuffer: 4096);
        await stalled.HandshakeAsync(64513, "10.0.1.2", hold: 90);
        var connectedAt = DateTime.UtcNow;
        using var stop = new CancellationTokenSource();
        var keepalives = Task.Run(async () =>
        {
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    await stalled.SendAsync(RawBgpPeer.KeepaliveMessage());
                    await Task.Delay(TimeSpan.FromSeconds(2), stop.Token);
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or System.Net.Sockets.SocketException)
            {
                // Dropped by ours, or the test is over.
            }
        });

        var rssMax = rssBefore;
        // The last error shows until ours tries again (error wait, then connect delay: 7 s here);
        // the NOTIFICATION counter stays.
        var lastErrorShown = false;
        await Wait.UntilAsync(async () =>
        {
            rssMax = Math.Max(rssMax, ProcStatus.RssKiB(pid));
            // Throughout: the healthy session stays up with the same uptime and its routes.
            Assert.Equal(since, ProtocolSince.Of(await ours.CommandAsync("show protocols"), Healthy));
            lastErrorShown |= (await ours.CommandAsync($"show protocols all {Stalled}")).Contains("Last error:       BGP Error: Send hold timer expired", StringComparison.Ordinal);
            return lastErrorShown && Counter(await ScrapeAsync(a), Code8Sent) == 1;
        }, Converge, "the stalled session to be dropped by the send hold timer", async () => await ScrapeAsync(a) + await Describe());
        var droppedAfter = DateTime.UtcNow - connectedAt;
        await stop.CancelAsync();
        await keepalives;

        // The connection is gone at the stalled peer's end too (reset: nothing left to wait for).
        var closed = false;
        for (var i = 0; i < 10_000 && !closed; i++)
            closed = await stalled.ReadAsync(TimeSpan.FromSeconds(10)) is null;
        Assert.True(closed, "the stalled peer's connection should be closed");

        var log = ours.Process.Output;
        Assert.Contains(log.Split('\n'), l => l.Contains("send hold timer expired", StringComparison.OrdinalIgnoreCase) && l.Contains("10.0.1.2", StringComparison.Ordinal));
        // Not before the send hold time (10 s) could have passed.
        Assert.True(droppedAfter >= TimeSpan.FromSeconds(10), $"dropped after {droppedAfter}");
        Assert.True(rssMax < RssBoundKiB, $"RSS reached {rssMax} KiB (before the stalled peer: {rssBefore} KiB)");

        // The healthy peer never noticed: same session, every route both ways.
        Assert.Equal(since, ProtocolSince.Of(await ours.CommandAsync("show protocols"), Healthy));
        Assert.True(await ours.IsEstablishedAsync(Healthy));
        Assert.True(await bird.IsEstablishedAsync("peer1"));
        Assert.Equal(Routes, await CountAsync(ours.CommandAsync, $"show route protocol {Healthy} count"));
        Assert.Equal(Routes + 1, await CountAsync(bird.CommandAsync, "show route count"));
        output.WriteLine($"send hold: dropped after {droppedAfter.TotalSeconds:0.0} s; RSS {rssBefore} KiB before, {rssMax} KiB max while stalled");
    }
}
