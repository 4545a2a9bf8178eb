using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Calico.Bgp.LoadGen.Orchestration;

/// <summary>
/// The driver's side of each scenario, one run per call in a fresh lab (<see cref="BenchRunner"/> repeats
/// them, the daemons taking turns): the DUT on core 1, the generator on
/// core 0; DUT CPU counted from GO to the result, peak RSS over the DUT's life.
/// </summary>
public sealed class Scenarios(BenchOptions options)
{
    private const int PinnedDutCore = 1;
    private const int GeneratorCore = 0;

    /// <summary>Pins every thread of this process to the generator's core; threads started later inherit the mask.</summary>
    public static void KeepDriverOffDutCore()
    {
        var mask = 1UL << GeneratorCore;
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            if (int.TryParse(Path.GetFileName(task), out var tid))
                ArrivalNative.SchedSetAffinity(tid, sizeof(ulong), ref mask);
        }
    }
    /// <summary>
    /// The DUT's cores for <c>taskset -c</c>: core 1, or every core with <see cref="BenchOptions.DutUnpinned"/>
    /// (named, since a child would otherwise inherit this driver's mask, core 0 alone).
    /// </summary>
    private string DutCore => options.DutUnpinned ? $"0-{Environment.ProcessorCount - 1}" : I($"{PinnedDutCore}");

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromMinutes(4);

    private static string I(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>The generator alone: P1's stream to a null sink over loopback, no DUT.</summary>
    public async Task<Measurement> SelfCheckAsync(int count, bool v6)
    {
        var runs = new List<RunResult>();
        await using var lab = await BenchLab.CreateAsync("self", 0, false).ConfigureAwait(false);
        await using var agent = AgentProcess.Start(lab.Generator, GeneratorCore, "selfcheck", I($"count={count}"), v6 ? "v6" : "v4=1");
        await agent.ExpectAsync("READY", ReadyTimeout).ConfigureAwait(false);
        await agent.SayAsync("GO").ConfigureAwait(false);
        var res = await agent.ResultAsync(TimeSpan.FromMinutes(3)).ConfigureAwait(false);
        runs.Add(new RunResult(res.GetProperty("seconds").GetDouble(), 0, 0, res.GetProperty("generatorCpuSeconds").GetDouble(), res));
        return new Measurement("self", I($"{count} {(v6 ? "IPv6 /48" : "IPv4 /24")}"), DutKind.Ours, runs);
    }

    public Task<Measurement> PassThroughAsync(DutKind kind, int count, bool v6, int timeoutSeconds) =>
        RunAsync("P1", I($"{count} {(v6 ? "IPv6 /48" : "IPv4 /24")}"), kind, DutRole.PassThrough, 2, v6, "p1",
            [I($"count={count}"), v6 ? "v6" : "v4=1", I($"timeout={timeoutSeconds}")], TimeSpan.FromSeconds((2 * timeoutSeconds) + 60), withdrawPhase: true);

    public Task<Measurement> ReflectorAsync(DutKind kind, int clients, int timeoutSeconds) =>
        RunAsync("P2", I($"K={clients}"), kind, DutRole.Reflector, clients, false, "p2",
            [I($"clients={clients}"), I($"timeout={timeoutSeconds}")], TimeSpan.FromSeconds(timeoutSeconds + 60), departPhase: true);

    /// <param name="traceDir">Where the agent writes each run's per-prefix latencies (null: not written).</param>
    public Task<Measurement> ChurnAsync(DutKind kind, int rate, int seconds, int monitors, string? traceDir = null) =>
        RunAsync("P4", I($"{rate}/s"), kind, DutRole.Reflector, monitors + 1, false, "p4",
            [I($"rate={rate}"), I($"seconds={seconds}"), I($"monitors={monitors}"),
             .. traceDir is null ? Array.Empty<string>() : [I($"trace={Path.Combine(traceDir, I($"p4-{kind.ToString().ToLowerInvariant()}-{rate}"))}")]],
            TimeSpan.FromSeconds(seconds + 120));

    /// <summary>
    /// P3: N mesh nodes' blocks until all are in the DUT's kernel table. The arrival of each route is
    /// timestamped from the kernel's route notifications (<see cref="KernelArrivals"/>, listening
    /// inside the DUT's namespace from before GO), and every time is on one clock from the moment
    /// this driver writes GO: the agent's GO, its first and last send, the first and the last route.
    /// </summary>
    public async Task<Measurement> MeshAsync(DutKind kind, int nodes, int timeoutSeconds)
    {
        var runs = new List<RunResult>();
        var protocol = Dut.KernelProtocol(kind);
        await using var lab = await BenchLab.CreateAsync("p3", nodes, false).ConfigureAwait(false);
        var dut = await Dut.StartAsync(kind, lab.DutHost, DutConfigs.For(kind, DutRole.MeshNode, nodes, false, options.GatewayRecursive), false, DutCore).ConfigureAwait(false);
        await using var agent = AgentProcess.Start(lab.Generator, GeneratorCore, "nodes", I($"nodes={nodes}"));
        await agent.ExpectAsync("READY", ReadyTimeout, dut).ConfigureAwait(false);
        // The listener shares core 0 with the generator, which is done sending before the DUT writes.
        using var arrivals = await KernelArrivals.StartAsync(lab.DutHost.Netns, protocol, 2 * nodes, GeneratorCore).ConfigureAwait(false);
        var before = arrivals.Count;
        var cpu0 = dut.CpuSeconds();
        var go = Stopwatch.GetTimestamp();
        await agent.SayAsync("GO").ConfigureAwait(false);
        await agent.ExpectAsync("SENT", TimeSpan.FromMinutes(2), dut).ConfigureAwait(false);
        var deadline = go + (long)(timeoutSeconds * Stopwatch.Frequency);
        while (arrivals.CompletedAt == 0 && !arrivals.Lost && Stopwatch.GetTimestamp() < deadline)
        {
            dut.ThrowIfExited();
            await Task.Delay(5).ConfigureAwait(false);
        }
        var cpu = dut.CpuSeconds() - cpu0;
        var hwm = dut.StatusMiB("VmHWM");
        // The table itself, read the old way, must agree with what the notifications counted.
        var table = await lab.KernelRoutesAsync(Dut.KernelProtocolName(kind)).ConfigureAwait(false);
        await agent.SayAsync("STOP").ConfigureAwait(false);
        var res = await agent.ResultAsync(TimeSpan.FromMinutes(1), dut).ConfigureAwait(false);
        await dut.StopAsync().ConfigureAwait(false);
        double Ms(long ticks) => Stopwatch.GetElapsedTime(go, ticks).TotalMilliseconds;
        var times = arrivals.Arrivals();
        var done = arrivals.CompletedAt;
        var extra = new Dictionary<string, double>
        {
            ["generatorCpuSeconds"] = res.GetProperty("generatorCpuSeconds").GetDouble(),
            ["agentGoMs"] = Ms(res.GetProperty("goTicks").GetInt64()),
            ["firstSendMs"] = Ms(res.GetProperty("sendStartTicks").GetInt64()),
            ["sentMs"] = Ms(res.GetProperty("sentTicks").GetInt64()),
            ["routesBefore"] = before,
            ["tableRoutes"] = table,
        };
        if (times.Length > before)
            extra["firstRouteMs"] = Ms(times[before]);
        if (times.Length >= before + nodes)
            extra["halfRoutesMs"] = Ms(times[before + nodes - 1]);
        if (done != 0)
            extra["lastRouteMs"] = Ms(done);
        double? seconds = done != 0 ? Stopwatch.GetElapsedTime(go, done).TotalSeconds : null;
        var note = arrivals.Lost ? "route notifications were lost (ENOBUFS): no time"
            : seconds is null ? I($"did not finish in {timeoutSeconds} s ({arrivals.Count} of {2 * nodes})")
            : table < 2 * nodes ? I($"the table holds {table} of {2 * nodes} after the notifications counted them all")
            : null;
        runs.Add(new RunResult(arrivals.Lost ? null : seconds, hwm, cpu, extra["generatorCpuSeconds"], JsonSerializer.SerializeToElement(extra), WithResets(res, note)));
        Log(kind, "P3", I($"{nodes} nodes"), runs[^1]);
        Console.Error.WriteLine(I($"           GO→agent {extra["agentGoMs"]:F2} ms, first send {extra["firstSendMs"]:F2} ms, all sent {extra["sentMs"]:F2} ms, first route {extra.GetValueOrDefault("firstRouteMs", double.NaN):F2} ms, half {extra.GetValueOrDefault("halfRoutesMs", double.NaN):F2} ms, last {extra.GetValueOrDefault("lastRouteMs", double.NaN):F2} ms (GO at {go} ns CLOCK_MONOTONIC, to line up with a perf trace)"));
        return new Measurement("P3", I($"{nodes} nodes"), kind, runs);
    }

    /// <summary>
    /// P6: a Calico node at rest. N mesh peers announce their blocks, the namespace holds Calico's
    /// workload interfaces and routes; once the blocks are in the kernel and a warm-up has passed,
    /// the DUT's CPU and RSS are sampled every 10 s for <paramref name="seconds"/>. CPU is reported
    /// per second of wall time (share of one core), RSS as start, end and least-squares slope.
    /// </summary>
    public async Task<Measurement> IdleAsync(DutKind kind, int nodes, int interfaces, int routes, int seconds)
    {
        var runs = new List<RunResult>();
        var label = I($"{nodes} peers, {interfaces} cali, {routes} /32, {seconds} s");
        await using var lab = await BenchLab.CreateAsync("p6", nodes, false).ConfigureAwait(false);
        await lab.AddWorkloadsAsync(interfaces, routes).ConfigureAwait(false);
        var dut = Dut.Start(kind, lab.DutHost, DutConfigs.For(kind, DutRole.IdleNode, nodes, false, options.GatewayRecursive), false, DutCore);
        await using var agent = AgentProcess.Start(lab.Generator, GeneratorCore, "nodes", I($"nodes={nodes}"));
        await agent.ExpectAsync("READY", ReadyTimeout, dut).ConfigureAwait(false);
        await agent.SayAsync("GO").ConfigureAwait(false);
        await agent.ExpectAsync("SENT", TimeSpan.FromMinutes(2), dut).ConfigureAwait(false);
        var converged = Stopwatch.StartNew();
        while (await lab.KernelRoutesAsync("bird").ConfigureAwait(false) < 2 * nodes)
        {
            dut.ThrowIfExited();
            if (converged.Elapsed > TimeSpan.FromMinutes(3))
                throw new TimeoutException("the peers' blocks did not reach the DUT's kernel in 3 minutes");
            await Task.Delay(100).ConfigureAwait(false);
        }
        // Start-up work (the first scans, the initial feed to every peer) is not idling.
        await Task.Delay(TimeSpan.FromSeconds(15)).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        var cpu0 = dut.CpuSeconds();
        var samples = new List<(double T, double Rss)> { (0, dut.StatusMiB("VmRSS")) };
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(10, Math.Max(0.1, seconds - clock.Elapsed.TotalSeconds)))).ConfigureAwait(false);
            dut.ThrowIfExited();
            samples.Add((clock.Elapsed.TotalSeconds, dut.StatusMiB("VmRSS")));
        }
        var wall = clock.Elapsed.TotalSeconds;
        var cpu = dut.CpuSeconds() - cpu0;
        var hwm = dut.StatusMiB("VmHWM");
        var held = await lab.KernelRoutesAsync("bird").ConfigureAwait(false);
        await agent.SayAsync("STOP").ConfigureAwait(false);
        var res = await agent.ResultAsync(TimeSpan.FromMinutes(1), dut).ConfigureAwait(false);
        await dut.StopAsync().ConfigureAwait(false);
        var extra = JsonSerializer.SerializeToElement(new Dictionary<string, double>
        {
            ["cpuPercent"] = 100 * cpu / wall,
            ["rssStartMiB"] = samples[0].Rss,
            ["rssEndMiB"] = samples[^1].Rss,
            ["rssSlopeMiBPerHour"] = 3600 * Slope(samples),
            ["generatorCpuSeconds"] = res.GetProperty("generatorCpuSeconds").GetDouble(),
        });
        runs.Add(new RunResult(null, hwm, cpu, res.GetProperty("generatorCpuSeconds").GetDouble(), extra,
            WithResets(res, held < 2 * nodes ? I($"only {held} of {2 * nodes} blocks left in the kernel at the end") : null)));
        Log(kind, "P6", label, runs[^1]);
        return new Measurement("P6", label, kind, runs);
    }

    /// <summary>Least-squares slope of RSS over time, MiB per second.</summary>
    private static double Slope(List<(double T, double Rss)> s)
    {
        var mt = s.Average(x => x.T);
        var mr = s.Average(x => x.Rss);
        var den = s.Sum(x => (x.T - mt) * (x.T - mt));
        return den == 0 ? 0 : s.Sum(x => (x.T - mt) * (x.Rss - mr)) / den;
    }

    /// <param name="withdrawPhase">
    /// P1's second phase: the agent says CONVERGED once the monitor holds every prefix, this driver reads
    /// the DUT's peak RSS and CPU there (the table's), then says WITHDRAW and the agent closes the feeding
    /// session. The DUT's peak RSS over the whole run and its CPU for the withdrawal go into the result as
    /// <c>withdrawPeakRssMiB</c> and <c>withdrawCpuSeconds</c>, beside the agent's <c>withdrawSeconds</c>, and
    /// its RSS a second later as <c>rssAfterWithdrawMiB</c> (what it gave back).
    /// </param>
    /// <param name="departPhase">
    /// P2's second phase: after the result this driver says STOP and the agent exits, its clients leaving
    /// at once; once the DUT has used no CPU for 300 ms, its peak RSS over the whole run and its CPU since
    /// the result go into the result as <c>departPeakRssMiB</c> and <c>departCpuSeconds</c>.
    /// </param>
    private async Task<Measurement> RunAsync(string scenario, string label, DutKind kind, DutRole role, int peers, bool v6, string agentScenario, string[] agentArgs, TimeSpan resultTimeout, bool withdrawPhase = false, bool departPhase = false)
    {
        var runs = new List<RunResult>();
        await using var lab = await BenchLab.CreateAsync(agentScenario, peers, v6).ConfigureAwait(false);
        var dut = Dut.Start(kind, lab.DutHost, DutConfigs.For(kind, role, peers, v6, options.GatewayRecursive), v6, DutCore);
        await using var agent = AgentProcess.Start(lab.Generator, GeneratorCore, agentScenario, agentArgs);
        await agent.ExpectAsync("READY", ReadyTimeout, dut).ConfigureAwait(false);
        var cpu0 = dut.CpuSeconds();
        await agent.SayAsync("GO").ConfigureAwait(false);
        double cpu, hwm;
        JsonElement res;
        if (withdrawPhase)
        {
            await agent.ExpectAsync("CONVERGED", resultTimeout, dut).ConfigureAwait(false);
            cpu = dut.CpuSeconds() - cpu0;
            hwm = dut.StatusMiB("VmHWM");
            await agent.SayAsync("WITHDRAW").ConfigureAwait(false);
            var agentResult = await agent.ResultAsync(resultTimeout, dut).ConfigureAwait(false);
            var merged = agentResult.Deserialize<Dictionary<string, JsonElement>>() ?? [];
            merged["withdrawPeakRssMiB"] = JsonSerializer.SerializeToElement(dut.StatusMiB("VmHWM"));
            merged["withdrawCpuSeconds"] = JsonSerializer.SerializeToElement(dut.CpuSeconds() - cpu0 - cpu);
            // What the DUT gives back once the table is gone: its RSS a second after the last withdrawal.
            await Task.Delay(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            merged["rssAfterWithdrawMiB"] = JsonSerializer.SerializeToElement(dut.StatusMiB("VmRSS"));
            res = JsonSerializer.SerializeToElement(merged);
        }
        else
        {
            res = await agent.ResultAsync(resultTimeout, dut).ConfigureAwait(false);
            cpu = dut.CpuSeconds() - cpu0;
            hwm = dut.StatusMiB("VmHWM");
            if (departPhase)
            {
                await agent.SayAsync("STOP").ConfigureAwait(false);
                var merged = res.Deserialize<Dictionary<string, JsonElement>>() ?? [];
                if (await agent.WaitForExitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false))
                {
                    await QuietAsync(dut).ConfigureAwait(false);
                    merged["departPeakRssMiB"] = JsonSerializer.SerializeToElement(dut.StatusMiB("VmHWM"));
                    merged["departCpuSeconds"] = JsonSerializer.SerializeToElement(dut.CpuSeconds() - cpu0 - cpu);
                }
                res = JsonSerializer.SerializeToElement(merged);
            }
        }
        await dut.StopAsync().ConfigureAwait(false);
        var finished = !res.TryGetProperty("finished", out var f) || f.GetBoolean();
        double? seconds = res.TryGetProperty("seconds", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetDouble() : null;
        var timeout = agentArgs.FirstOrDefault(a => a.StartsWith("timeout=", StringComparison.Ordinal))?[8..];
        // A daemon that cannot finish once will not finish the next time either: its later runs are skipped.
        runs.Add(new RunResult(seconds, hwm, cpu, res.GetProperty("generatorCpuSeconds").GetDouble(), res,
            WithResets(res, finished ? null : $"did not finish in {timeout} s"), GaveUp: !finished));
        Log(kind, scenario, label, runs[^1]);
        return new Measurement(scenario, label, kind, runs);
    }

    /// <summary>
    /// Waits until <paramref name="dut"/> has used no CPU worth counting (under 10 ms) for 300 ms, at most
    /// 30 s: the work a departure set off is done.
    /// </summary>
    private static async Task QuietAsync(Dut dut)
    {
        var clock = Stopwatch.StartNew();
        var last = dut.CpuSeconds();
        var quietSince = clock.Elapsed;
        while (clock.Elapsed < TimeSpan.FromSeconds(30) && clock.Elapsed - quietSince < TimeSpan.FromMilliseconds(300))
        {
            await Task.Delay(50).ConfigureAwait(false);
            dut.ThrowIfExited();
            var now = dut.CpuSeconds();
            if (now - last >= 0.01)
            {
                last = now;
                quietSince = clock.Elapsed;
            }
        }
    }

    /// <summary>
    /// A run's note, naming the established sessions the DUT closed before READY, which the agent
    /// reconnected (FRR still reading a thousand peers' configuration resets some it has brought up).
    /// </summary>
    private static string? WithResets(JsonElement agent, string? note)
    {
        if (!agent.TryGetProperty("resetBeforeReady", out var r) || r.GetInt32() == 0)
            return note;
        var n = r.GetInt32();
        var reset = I($"{n} session{(n == 1 ? "" : "s")} closed by the DUT before READY, reconnected");
        return note is null ? reset : $"{note}; {reset}";
    }

    private static void Log(DutKind kind, string scenario, string label, RunResult r) =>
        Console.Error.WriteLine(I($"[{DateTime.Now:HH:mm:ss}] {scenario} {label,-16} {Dut.Name(kind),-20} {(r.Seconds is { } s ? $"{s,8:F3} s" : r.Note)}  RSS {r.PeakRssMiB,7:F1} MiB  CPU {r.DutCpuSeconds,7:F2} s  gen CPU {r.GeneratorCpuSeconds,6:F2} s{Latencies(r)}  load {LoadAverage()}"));

    /// <summary>P4's per-run latencies: the table shows medians over runs, and its tail moves from run to run.</summary>
    private static string Latencies(RunResult r)
    {
        if (r.Extra("p99ms") is not { } p99)
            return "";
        double Ms(string key) => r.Extra(key) ?? double.NaN;
        return I($"  p50 {Ms("p50ms"):F2} p99 {p99:F2} max {Ms("maxms"):F1} ms (withdraw p99 {Ms("withdrawP99ms"):F2}; beyond p99 at all monitors {Ms("lateAllMonitors"):F0}, at some {Ms("lateSomeMonitors"):F0} prefixes; the generator read them {Ms("readLagP50ms"):F2} / {Ms("readLagP99ms"):F2} ms after the kernel's stamp, p50 / p99{(Ms("replaced") > 0 ? $"; before the churner's withdrawal, withdrawn and announced again in one read (a path replaced): {Ms("replaced"):F0} times over all monitors" : "")}{(Ms("reannounced") > 0 ? $"; withdrawn and announced again later: {Ms("reannounced"):F0}" : "")})");
    }

    /// <summary>The 1-minute load average when the run ended: a shared machine's other work shows in the tail.</summary>
    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "?";
        }
    }
}
