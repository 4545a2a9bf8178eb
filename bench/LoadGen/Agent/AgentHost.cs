using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Calico.Bgp.LoadGen.Agent;

/// <summary>
/// The generator process: runs inside the generator namespace (pinned to core 0 by the driver),
/// brings every speaker up, pre-encodes, says <c>READY</c>, starts on <c>GO</c> from stdin and
/// prints one <c>RESULT {json}</c> line. The driver reads the DUT's /proc between those lines.
/// </summary>
public sealed class AgentHost
{
    private readonly Dictionary<string, string> _args;
    private readonly List<BgpSpeaker> _speakers = [];
    private readonly Stopwatch _clock = new();
    private TimeSpan _cpuAtGo;

    public AgentHost(Dictionary<string, string> args) => _args = args;

    public int Int(string key, int fallback) => _args.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public string? Str(string key) => _args.TryGetValue(key, out var v) ? v : null;

    public bool Flag(string key) => _args.TryGetValue(key, out var v) && v == "1";

    public IReadOnlyList<BgpSpeaker> Speakers => _speakers;

    public static async Task<int> MainAsync(string[] args)
    {
        var scenario = args[0];
        var kv = args.Skip(1).Select(a => a.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "1");
        var host = new AgentHost(kv);
        try
        {
            var result = await AgentScenarios.RunAsync(scenario, host).ConfigureAwait(false);
            // A scenario with a second phase gives its first phase's figure itself.
            result.TryAdd("generatorCpuSeconds", host.CpuSinceGo);
            result["resetBeforeReady"] = host.ResetBeforeReady;
            Console.Out.WriteLine("RESULT " + JsonSerializer.Serialize(result));
            Console.Out.Flush();
            // P2's clients stay until the driver has read the DUT's figures, then all leave at once
            // as the process exits (the driver measures what their departure costs the DUT).
            if (scenario == "p2")
                WaitForStop();
            return 0;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"agent {scenario} failed: {e}");
            foreach (var s in host._speakers.Where(s => s.Failure is not null).Take(5))
                Console.Error.WriteLine(s.Failure);
            return 1;
        }
        finally
        {
            foreach (var s in host._speakers)
                await s.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Speakers 0..n-1 at their topology addresses, connected in parallel (bounded, so the DUT's accept queue keeps up).</summary>
    public async Task<List<BgpSpeaker>> ConnectAsync(int from, int count, bool v6, Func<int, uint> asn, bool addPath, Func<int, PrefixCounter> counter, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var list = new List<BgpSpeaker>();
        for (var i = from; i < from + count; i++)
        {
            var s = new BgpSpeaker(IPAddress.Parse(Topology.Speaker(i, v6)), Topology.Dut(v6), asn(i), addPath, counter(i));
            list.Add(s);
            _speakers.Add(s);
        }
        using var gate = new SemaphoreSlim(64);
        await Task.WhenAll(list.Select(async s =>
        {
            await gate.WaitAsync(cts.Token).ConfigureAwait(false);
            try
            {
                await s.ConnectAsync(cts.Token).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
        })).ConfigureAwait(false);
        // Before READY, a session the DUT resets is set-up, not the run: reconnect it, until no session
        // has died for a while. Counted and reported (ResetBeforeReady), so a DUT that does it is seen.
        for (var quiet = 0; quiet < SettleChecks;)
        {
            await Task.Delay(SettleInterval, cts.Token).ConfigureAwait(false);
            var dead = list.Where(s => s.Failure is not null).ToList();
            if (dead.Count == 0)
            {
                quiet++;
                continue;
            }
            quiet = 0;
            ResetBeforeReady += dead.Count;
            foreach (var s in dead)
                Console.Error.WriteLine($"reconnecting: {s.Failure}");
            await Task.WhenAll(dead.Select(s => s.ReconnectAsync(cts.Token))).ConfigureAwait(false);
        }
        return list;
    }

    private const int SettleChecks = 3;
    private static readonly TimeSpan SettleInterval = TimeSpan.FromMilliseconds(300);

    /// <summary>Established sessions the DUT closed before READY, which <see cref="ConnectAsync"/> reconnected.</summary>
    public int ResetBeforeReady { get; private set; }

    /// <summary>Prints READY and blocks until the driver says GO; then the clock runs.</summary>
    public void ReadyAndWaitForGo()
    {
        Console.Out.WriteLine("READY");
        Console.Out.Flush();
        var line = Console.In.ReadLine();
        if (line != "GO")
            throw new InvalidOperationException($"expected GO, got {line}");
        _cpuAtGo = Process.GetCurrentProcess().TotalProcessorTime;
        _clock.Restart();
        GoTimestamp = Stopwatch.GetTimestamp();
    }

    /// <summary>Prints a progress line the driver waits for (e.g. SENT), then blocks until STOP.</summary>
    public static void Say(string line)
    {
        Console.Out.WriteLine(line);
        Console.Out.Flush();
    }

    /// <summary>Blocks until the driver says <paramref name="expected"/>.</summary>
    public static void WaitFor(string expected)
    {
        while (Console.In.ReadLine() is { } line)
        {
            if (line == expected)
                return;
        }
        throw new InvalidOperationException($"the driver closed stdin before {expected}");
    }

    public static void WaitForStop()
    {
        while (Console.In.ReadLine() is { } line && line != "STOP")
        {
        }
    }

    public long GoTimestamp { get; private set; }

    /// <summary>This process's CPU seconds since GO.</summary>
    public double CpuSinceGo => (Process.GetCurrentProcess().TotalProcessorTime - _cpuAtGo).TotalSeconds;

    public double Elapsed => _clock.Elapsed.TotalSeconds;

    /// <summary>Seconds from GO to a Stopwatch timestamp.</summary>
    public double SinceGo(long timestamp) => Stopwatch.GetElapsedTime(GoTimestamp, timestamp).TotalSeconds;

    /// <summary>Polls until <paramref name="done"/>, failing fast when a session dies; false on timeout.</summary>
    public async Task<bool> WaitAsync(Func<bool> done, TimeSpan timeout, Action? sample = null, int everyMs = 5)
    {
        var deadline = _clock.Elapsed + timeout;
        while (!done())
        {
            if (_speakers.FirstOrDefault(s => s.Failure is not null) is { } dead)
                throw new InvalidOperationException($"a session died: {dead.Failure}");
            if (_clock.Elapsed > deadline)
                return false;
            sample?.Invoke();
            await Task.Delay(everyMs).ConfigureAwait(false);
        }
        sample?.Invoke();
        return true;
    }
}
