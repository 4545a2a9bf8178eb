using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Calico.Bgp.KernelBench;

/// <summary>
/// <c>perf record -g</c> of this process around one phase (<c>--perf DIR</c>): a whole-run profile
/// mixes install, removal and the untimed set-up, while the question is usually one window. perf is
/// started on our pid, given time to attach, and stopped with SIGINT (it writes its file then).
/// </summary>
public sealed partial class Profiler : IAsyncDisposable
{
    private Process? _perf;

    private Profiler(Process? perf) => _perf = perf;

    /// <summary>The directory profiles go to (null: profiling off).</summary>
    public static string? Directory { get; set; }

    /// <summary>Starts perf for the phase <paramref name="name"/>, or does nothing when profiling is off.</summary>
    public static async Task<Profiler> StartAsync(string name)
    {
        if (Directory is not { } dir)
            return new Profiler(null);
        System.IO.Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, $"{name}.perf.data");
        var perf = Process.Start(new ProcessStartInfo("perf", ["record", "-F", "2000", "-g", "-p", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), "-o", file])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        // perf prints nothing once attached; a generous pause so the phase is not started before it samples.
        await Task.Delay(1500);
        Console.Error.WriteLine($"  perf (pid {perf.Id}) recording {file}");
        return new Profiler(perf);
    }

    public async ValueTask DisposeAsync()
    {
        // Once only: a phase's normal end and the scenario's finally may both stop it.
        if (Interlocked.Exchange(ref _perf, null) is not { } perf)
            return;
        _ = Kill(perf.Id, 2);
        await perf.WaitForExitAsync();
        perf.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
