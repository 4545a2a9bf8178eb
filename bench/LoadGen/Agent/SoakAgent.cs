using System.Diagnostics;
using Calico.Bgp.Rib;

namespace Calico.Bgp.LoadGen.Agent;

/// <summary>
/// The soak's generator: K route-reflector clients (ADD-PATH) each announce P2's Calico routes
/// (2 /26 + 5 /32); once every client holds the other clients' 7 (K − 1) routes it says CHURN and
/// for the given time announces workload /32s at a steady rate, each withdrawn a second later (P4's
/// churn, spread over every client). Each /32 is new (never reused), so per-prefix state the DUT
/// failed to free would grow. After the last withdrawal it waits until every client is back at
/// 7 (K − 1) routes: a DUT that fell behind or lost a withdrawal shows there.
/// </summary>
public static class SoakAgent
{
    private const double WithdrawAfter = 1.0;
    // A node starts a few pods at a time: five consecutive workloads come from the same client.
    private const int WorkloadsPerClientTurn = 5;
    private static readonly uint ChurnBase = UpdateStreams.V4Base("10.192.0.0");
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromMinutes(3);

    public static async Task<Dictionary<string, object?>> RunAsync(AgentHost h)
    {
        var k = h.Int("clients", 500);
        var rate = h.Int("rate", 500);
        var seconds = h.Int("seconds", 1800);
        var baseline = 7 * (k - 1);
        var clients = await h.ConnectAsync(0, k, false, _ => Topology.DutAs, true, _ => new PrefixCounter(baseline), TimeSpan.FromMinutes(4)).ConfigureAwait(false);
        var streams = clients.Select((c, i) => UpdateStreams.Announce(c, false, AgentScenarios.ClientPrefixes(i)).Bytes).ToArray();
        var attrs = clients.Select(c => UpdateStreams.Attributes(c, false)).ToArray();
        h.ReadyAndWaitForGo();
        await Task.WhenAll(clients.Select((c, i) => c.SendAsync(streams[i]))).ConfigureAwait(false);
        if (!await h.WaitAsync(() => clients.All(c => c.Counter.ReachedAt != 0), TimeSpan.FromMinutes(3), everyMs: 50).ConfigureAwait(false))
            throw new InvalidOperationException($"clients did not converge on {baseline} routes each: {clients.Sum(c => (long)c.Counter.Count)} of {(long)baseline * k}");
        var convergedSeconds = h.Elapsed;
        var announcementsBefore = clients.Sum(c => c.Counter.Announcements);
        AgentHost.Say("CHURN");

        var churnStart = h.Elapsed;
        var churned = 0;
        Exception? pacerFailure = null;
        var pacer = new Thread(() =>
        {
            try
            {
                churned = Pace(h, clients, attrs, rate, seconds);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or System.Net.Sockets.SocketException)
            {
                pacerFailure = e;
            }
        })
        { IsBackground = true, Name = "soak pacer" };
        pacer.Start();
        // Sessions are checked while the pacer runs: a dead one fails the soak at once.
        if (!await h.WaitAsync(() => !pacer.IsAlive, TimeSpan.FromSeconds(seconds + 120), everyMs: 500).ConfigureAwait(false))
            throw new InvalidOperationException($"the pacer did not finish {seconds} s of churn in {seconds + 120} s");
        if (pacerFailure is not null)
            throw new InvalidOperationException($"the pacer failed: {pacerFailure.Message}", pacerFailure);
        var churnSeconds = h.Elapsed - churnStart;

        var drainStart = h.Elapsed;
        var drained = await h.WaitAsync(() => clients.All(c => c.Counter.Count == baseline), DrainTimeout, everyMs: 100).ConfigureAwait(false);
        var delivered = clients.Sum(c => c.Counter.Announcements) - announcementsBefore;
        return new()
        {
            ["clients"] = k,
            ["rate"] = rate,
            ["convergedSeconds"] = convergedSeconds,
            ["churnSeconds"] = churnSeconds,
            ["churnAnnounced"] = churned,
            // Every announcement should reach the K − 1 other clients; fewer means the DUT fell more
            // than a second behind and an announcement met its withdrawal in the DUT's queue.
            ["deliveredAnnouncements"] = delivered,
            ["deliveredRatio"] = churned == 0 ? null : delivered / ((double)churned * (k - 1)),
            ["drained"] = drained,
            ["drainSeconds"] = drained ? h.Elapsed - drainStart : null,
            ["routesHeldAtEnd"] = clients.Sum(c => (long)c.Counter.Count),
            ["routesExpectedAtEnd"] = (long)baseline * k,
        };
    }

    /// <summary>
    /// Announces workload j at j / rate seconds after the start from client (j / 5) mod K, one
    /// UPDATE each, and withdraws it <see cref="WithdrawAfter"/> s later; returns how many it announced.
    /// A dedicated thread with 1 ms sleeps: thread-pool timers drift by milliseconds.
    /// </summary>
    private static int Pace(AgentHost h, IReadOnlyList<BgpSpeaker> clients, byte[][] attrs, int rate, int seconds)
    {
        var total = (int)Math.Min(int.MaxValue, (long)rate * seconds);
        var start = h.Elapsed;
        var nextA = 0;
        var nextW = 0;
        while (nextW < total)
        {
            var t = h.Elapsed - start;
            var due = Math.Min(total, (int)(t * rate) + 1);
            for (; nextA < due; nextA++)
            {
                var c = Owner(nextA, clients.Count);
                clients[c].SendAsync(UpdateStreams.AnnounceOneEach(clients[c], attrs[c], Workload(nextA))).GetAwaiter().GetResult();
            }
            var dueW = Math.Min(nextA, Math.Max(0, (int)((t - WithdrawAfter) * rate) + 1));
            for (; nextW < dueW; nextW++)
            {
                var c = Owner(nextW, clients.Count);
                clients[c].SendAsync(UpdateStreams.WithdrawOneEach(clients[c], Workload(nextW))).GetAwaiter().GetResult();
            }
            Thread.Sleep(1);
        }
        Debug.Assert(nextA == total);
        return total;
    }

    private static int Owner(int workload, int clients) => workload / WorkloadsPerClientTurn % clients;

    // 10.192.0.0/10 holds 4M /32s: 500/s for an hour is 1.8M, none reused.
    private static Prefix Workload(int j) => UpdateStreams.V4(ChurnBase, j, 32);
}
