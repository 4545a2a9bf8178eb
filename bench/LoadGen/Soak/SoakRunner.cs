using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Calico.Bgp.LoadGen.Orchestration;

namespace Calico.Bgp.LoadGen.Soak;

/// <summary>
/// The soak (not in CI): our daemon as route reflector for K clients under P2's routes and P4's
/// churn for a long time, sampled from outside every few seconds; the report is the least-squares
/// slope of RSS, GC heap, threads and open handles after warm-up. Same lab as P1–P4: the DUT alone
/// in its namespace on core 1, the generator on core 0.
/// </summary>
public static class SoakRunner
{
    private const string DutCore = "1";
    private const int GeneratorCore = 0;
    // Inside the DUT's own namespace: nothing else listens there.
    private const string MetricsEndpoint = "127.0.0.1:9480";

    public static async Task<int> RunAsync(string[] args)
    {
        if (!SoakOptions.TryParse(args, out var o, out var error))
        {
            Console.Error.WriteLine(error);
            Console.Error.WriteLine(SoakOptions.Usage);
            return 2;
        }
        var report = new SoakReport(o, args);
        await using var lab = await BenchLab.CreateAsync("soak", o.Clients, false).ConfigureAwait(false);
        var dut = Dut.Start(DutKind.Ours, lab.DutHost, DutConfigs.For(DutKind.Ours, DutRole.Reflector, o.Clients, false), false, DutCore,
            ["--metrics", MetricsEndpoint]);
        try
        {
            await using var agent = AgentProcess.Start(lab.Generator, GeneratorCore, "soak",
                I($"clients={o.Clients}"), I($"rate={o.Rate}"), I($"seconds={o.ChurnSeconds}"));
            await agent.ExpectAsync("READY", TimeSpan.FromMinutes(5), dut).ConfigureAwait(false);
            Log($"{o.Clients} clients up; GO");
            await agent.SayAsync("GO").ConfigureAwait(false);
            await agent.ExpectAsync("CHURN", TimeSpan.FromMinutes(4), dut).ConfigureAwait(false);
            Log($"every client holds 7 (K - 1) routes; churn at {o.Rate}/s for {o.ChurnSeconds} s");

            var sampler = new SoakSampler(lab.DutHost, dut.Pid, MetricsEndpoint);
            var clock = Stopwatch.StartNew();
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(o.IntervalSeconds));
            while (true)
            {
                dut.ThrowIfExited();
                var s = await sampler.SampleAsync(clock.Elapsed.TotalSeconds).ConfigureAwait(false);
                report.Add(s);
                Log(I($"t={s.Seconds,6:F0} s  RSS {s.RssMiB,7:F1} MiB  GC heap {s.GcHeapMiB,7:F1} MiB  threads {s.Threads,3:F0}  fds {s.Handles,4:F0}  CPU {s.CpuSeconds,8:F1} s  load {report.LastLoad}"));
                if (clock.Elapsed.TotalSeconds >= o.ChurnSeconds)
                    break;
                await timer.WaitForNextTickAsync().ConfigureAwait(false);
            }
            var result = await agent.ResultAsync(TimeSpan.FromMinutes(6), dut).ConfigureAwait(false);
            report.Finish(result);
            Log($"agent: {result.GetRawText()}");
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or JsonException)
        {
            report.Fail(e.Message);
            Console.Error.WriteLine($"soak failed: {e.Message}");
        }
        finally
        {
            await dut.StopAsync().ConfigureAwait(false);
        }
        await report.WriteAsync().ConfigureAwait(false);
        Console.Error.WriteLine($"written to {o.Output}");
        return report.Failed ? 1 : 0;
    }

    private static string I(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static void Log(string line) => Console.Error.WriteLine(I($"[{DateTime.Now:HH:mm:ss}] soak {line}"));
}
