using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Calico.Bgp.Rib;

namespace Calico.Bgp.LoadGen.Agent;

/// <summary>The generator's side of each scenario. Results are flat name → value maps the driver tabulates.</summary>
public static class AgentScenarios
{
    private const uint SenderAs = 65001;
    private const uint MonitorAs = 65002;
    private const int SelfCheckPort = 11179;
    // Calico's shapes: /26 IPAM blocks from 10.64.0.0/10, workload /32s from 10.128.0.0/9.
    private static readonly uint BlockBase = UpdateStreams.V4Base("10.64.0.0");
    private static readonly uint HostBase = UpdateStreams.V4Base("10.128.0.0");
    private static readonly uint P1Base = UpdateStreams.V4Base("20.0.0.0");
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromMinutes(3);

    public static Task<Dictionary<string, object?>> RunAsync(string scenario, AgentHost h) => scenario switch
    {
        "selfcheck" => SelfCheckAsync(h),
        "p1" => PassThroughAsync(h),
        "p2" => ReflectorAsync(h),
        "nodes" => NodesAsync(h),
        "p4" => ChurnAgent.RunAsync(h),
        "soak" => SoakAgent.RunAsync(h),
        _ => throw new ArgumentException($"unknown scenario {scenario}"),
    };

    public static Prefix[] P1Prefixes(int count, bool v6)
    {
        var p = new Prefix[count];
        for (var i = 0; i < count; i++)
            p[i] = v6 ? UpdateStreams.V6Slash48(i) : UpdateStreams.V4(P1Base, i, 24);
        return p;
    }

    /// <summary>
    /// The generator against a null sink: the P1 stream from a sender speaker to a counting speaker
    /// in this same process over loopback. Its rate bounds what the generator can measure.
    /// </summary>
    private static async Task<Dictionary<string, object?>> SelfCheckAsync(AgentHost h)
    {
        var v6 = h.Flag("v6");
        var count = h.Int("count", 1_000_000);
        var loop = v6 ? IPAddress.IPv6Loopback : IPAddress.Loopback;
        using var listener = new Socket(loop.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(loop, SelfCheckPort));
        listener.Listen();
        var sinkCounter = new PrefixCounter(count);
        await using var sink = new BgpSpeaker(loop, loop, MonitorAs, false, sinkCounter);
        await using var sender = new BgpSpeaker(loop, loop, SenderAs, false, new PrefixCounter(0), SelfCheckPort);
        var accept = Task.Run(async () => await sink.AcceptAsync(await listener.AcceptAsync().ConfigureAwait(false), CancellationToken.None).ConfigureAwait(false));
        await sender.ConnectAsync(CancellationToken.None).ConfigureAwait(false);
        await accept.ConfigureAwait(false);
        var (bytes, messages) = UpdateStreams.Announce(sender, true, P1Prefixes(count, v6));
        h.ReadyAndWaitForGo();
        await sender.SendAsync(bytes).ConfigureAwait(false);
        var sent = h.Elapsed;
        await h.WaitAsync(() => sinkCounter.ReachedAt != 0, TimeSpan.FromMinutes(2)).ConfigureAwait(false);
        var seconds = h.SinceGo(sinkCounter.ReachedAt);
        return new()
        {
            ["prefixes"] = count,
            ["messages"] = messages,
            ["bytes"] = bytes.Length,
            ["sendSeconds"] = sent,
            ["seconds"] = seconds,
            ["prefixesPerSecond"] = count / seconds,
        };
    }

    /// <summary>P1: one eBGP sender, one eBGP monitor; time from GO to the last prefix at the monitor.</summary>
    private static async Task<Dictionary<string, object?>> PassThroughAsync(AgentHost h)
    {
        var v6 = h.Flag("v6");
        var count = h.Int("count", 1_000_000);
        var timeout = TimeSpan.FromSeconds(h.Int("timeout", 600));
        var monitorCounter = new PrefixCounter(count);
        var speakers = await h.ConnectAsync(0, 2, v6, i => i == 0 ? SenderAs : MonitorAs, false, i => i == 0 ? new PrefixCounter(0) : monitorCounter, ConnectTimeout).ConfigureAwait(false);
        var sender = speakers[0];
        var (bytes, messages) = UpdateStreams.Announce(sender, true, P1Prefixes(count, v6));
        var eor = UpdateStreams.EndOfRib(v6);
        h.ReadyAndWaitForGo();
        await sender.SendAsync(bytes).ConfigureAwait(false);
        await sender.SendAsync(eor).ConfigureAwait(false);
        var sent = h.Elapsed;
        var done = await h.WaitAsync(() => monitorCounter.ReachedAt != 0, timeout, everyMs: 20).ConfigureAwait(false);
        var received = monitorCounter.Count;
        var updates = monitorCounter.Updates;
        var generatorCpu = h.CpuSinceGo;
        // Then the feeding peer goes away (its socket closed, as when its node restarts): the DUT must
        // withdraw every prefix from the monitor. The driver reads the DUT's peak RSS before this.
        AgentHost.Say("CONVERGED");
        AgentHost.WaitFor("WITHDRAW");
        double? withdrawSeconds = null;
        if (done)
        {
            var closed = Stopwatch.GetTimestamp();
            await sender.DisposeAsync().ConfigureAwait(false);
            if (await h.WaitAsync(() => monitorCounter.EmptiedAt != 0, timeout, everyMs: 20).ConfigureAwait(false))
                withdrawSeconds = Stopwatch.GetElapsedTime(closed, monitorCounter.EmptiedAt).TotalSeconds;
        }
        return new()
        {
            ["finished"] = done,
            ["seconds"] = done ? h.SinceGo(monitorCounter.ReachedAt) : null,
            ["received"] = received,
            ["messagesSent"] = messages,
            ["sendSeconds"] = sent,
            ["monitorUpdates"] = updates,
            ["withdrawSeconds"] = withdrawSeconds,
            ["withdrawnLeft"] = monitorCounter.Count,
            ["generatorCpuSeconds"] = generatorCpu,
        };
    }

    /// <summary>
    /// P2: K route-reflector clients, each announcing 2 /26 and 5 /32 with ADD-PATH; done when every
    /// client holds the other clients' 7 (K − 1) routes. The convergence curve is sampled every 10 ms.
    /// </summary>
    private static async Task<Dictionary<string, object?>> ReflectorAsync(AgentHost h)
    {
        var k = h.Int("clients", 100);
        var timeout = TimeSpan.FromSeconds(h.Int("timeout", 600));
        var target = 7 * (k - 1);
        var clients = await h.ConnectAsync(0, k, false, _ => Topology.DutAs, true, _ => new PrefixCounter(target), ConnectTimeout).ConfigureAwait(false);
        var streams = clients.Select((c, i) => UpdateStreams.Announce(c, false, ClientPrefixes(i)).Bytes).ToArray();
        h.ReadyAndWaitForGo();
        await Task.WhenAll(clients.Select((c, i) => c.SendAsync(streams[i]))).ConfigureAwait(false);
        var curve = new List<double[]>();
        var lastSample = -1.0;
        void Sample()
        {
            var t = h.Elapsed;
            if (t - lastSample < 0.01)
                return;
            lastSample = t;
            curve.Add([t, clients.Sum(c => (double)c.Counter.Count)]);
        }
        var done = await h.WaitAsync(() => clients.All(c => c.Counter.ReachedAt != 0), timeout, Sample, 5).ConfigureAwait(false);
        lastSample = -1;
        Sample(); // the final point, however close to the previous one
        var updates = clients.Select(c => c.Counter.Updates).ToArray();
        return new()
        {
            ["finished"] = done,
            ["seconds"] = done ? clients.Max(c => h.SinceGo(c.Counter.ReachedAt)) : null,
            ["routesHeld"] = clients.Sum(c => (long)c.Counter.Count),
            ["routesExpected"] = (long)target * k,
            ["updatesPerClientAvg"] = updates.Average(),
            ["updatesPerClientMax"] = updates.Max(),
            ["curve"] = curve,
        };
    }

    /// <summary>Client i's routes: its two /26 blocks and five workload /32s.</summary>
    public static Prefix[] ClientPrefixes(int i) =>
    [
        UpdateStreams.V4(BlockBase, 2 * i, 26),
        UpdateStreams.V4(BlockBase, (2 * i) + 1, 26),
        .. Enumerable.Range(0, 5).Select(j => UpdateStreams.V4(HostBase, (5 * i) + j, 32)),
    ];

    /// <summary>
    /// P3 and P6: N mesh nodes (iBGP, no reflection), each announcing its two /26 blocks; prints
    /// SENT and keeps the sessions up until STOP, while the driver watches the DUT's kernel and /proc.
    /// </summary>
    private static async Task<Dictionary<string, object?>> NodesAsync(AgentHost h)
    {
        var n = h.Int("nodes", 200);
        var nodes = await h.ConnectAsync(0, n, false, _ => Topology.DutAs, false, _ => new PrefixCounter(0), ConnectTimeout).ConfigureAwait(false);
        var streams = nodes.Select((c, i) => UpdateStreams.Announce(c, false, ClientPrefixes(i)[..2]).Bytes).ToArray();
        h.ReadyAndWaitForGo();
        // Raw Stopwatch timestamps (CLOCK_MONOTONIC, the same clock in every process on the host), so
        // the driver can place GO's arrival here and the first and last send on its own time line.
        var sendStart = Stopwatch.GetTimestamp();
        await Task.WhenAll(nodes.Select((c, i) => c.SendAsync(streams[i]))).ConfigureAwait(false);
        var sentAt = Stopwatch.GetTimestamp();
        var sent = h.Elapsed;
        AgentHost.Say("SENT");
        AgentHost.WaitForStop();
        if (nodes.FirstOrDefault(s => s.Failure is not null) is { } dead)
            throw new InvalidOperationException($"a session died: {dead.Failure}");
        return new()
        {
            ["sendSeconds"] = sent,
            ["nodes"] = n,
            ["goTicks"] = h.GoTimestamp,
            ["sendStartTicks"] = sendStart,
            ["sentTicks"] = sentAt,
        };
    }
}
