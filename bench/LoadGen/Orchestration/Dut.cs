using System.Globalization;
using Calico.Bgp.Lab;

namespace Calico.Bgp.LoadGen.Orchestration;

/// <summary>
/// The daemon under test, alone in its namespace, on the cores <c>taskset -c</c> is given (core 1,
/// or all of them; <c>taskset</c> execs the daemon, so the PID is the daemon's). Its memory and CPU are
/// read from /proc: VmHWM for peak RSS, utime + stime for CPU seconds.
/// </summary>
public sealed class Dut
{
    private static readonly double ClockTicks = 100.0; // sysconf(_SC_CLK_TCK) on Linux

    private Dut(DutKind kind, LabProcess process, LabProcess? zebra = null)
    {
        Kind = kind;
        Process = process;
        Zebra = zebra;
    }

    public DutKind Kind { get; }
    public LabProcess Process { get; }

    /// <summary>FRR's zebra when the DUT writes the kernel table (P3): its CPU and memory count with bgpd's.</summary>
    public LabProcess? Zebra { get; }

    public int Pid => Process.Pid;

    /// <summary>
    /// The <c>rtm_protocol</c> of the routes the DUT writes to the kernel: ours and BIRD write
    /// <c>proto bird</c> (12), FRR's zebra writes <c>proto bgp</c> (186) for bgpd's routes.
    /// </summary>
    public static byte KernelProtocol(DutKind kind) => kind == DutKind.Frr ? (byte)186 : (byte)12;

    /// <summary>The same as <c>ip route show proto</c> takes it.</summary>
    public static string KernelProtocolName(DutKind kind) => KernelProtocol(kind).ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// As <see cref="Start"/> for a DUT that writes the kernel table: FRR then runs zebra first (on
    /// the same core) and bgpd talks to it over zserv instead of running without zebra.
    /// </summary>
    public static async Task<Dut> StartAsync(DutKind kind, LabHost host, string config, bool v6, string cores)
    {
        if (kind != DutKind.Frr)
            return Start(kind, host, config, v6, cores);
        var dir = Path.Combine(host.Dir, "frr");
        Directory.CreateDirectory(dir);
        // zebra and bgpd drop to the frr user after start-up and then write their pid files and sockets here.
        if (OperatingSystem.IsLinux())
            File.SetUnixFileMode(dir, (UnixFileMode)0x1FF);
        var zserv = Path.Combine(dir, "zserv.api");
        List<string> zebraArgs = ["-f", host.WriteFile("frr-zebra.conf", "hostname dut\n"), "-z", zserv, "--vty_socket", dir, "-i", Path.Combine(dir, "zebra.pid"), "-P", "0"];
        var zebra = host.Start("zebra", "taskset", ["-c", cores, LabTools.FrrZebra, .. zebraArgs]);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!File.Exists(zserv))
        {
            if (zebra.HasExited || DateTime.UtcNow > deadline)
            {
                await zebra.StopAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
                throw new InvalidOperationException($"zebra did not open {zserv}:\n{Tail(zebra.Output)}");
            }
            await Task.Delay(50).ConfigureAwait(false);
        }
        List<string> bgpdArgs = ["-f", host.WriteFile("frr-bgpd.conf", config), "-z", zserv, "-P", "0", "--vty_socket", dir, "-i", Path.Combine(dir, "bgpd.pid")];
        var bgpd = host.Start(kind.ToString(), "taskset", ["-c", cores, LabTools.FrrBgpd, .. bgpdArgs]);
        return new Dut(kind, bgpd, zebra);
    }

    public static string Name(DutKind kind) => kind switch
    {
        DutKind.Ours => "calico-bgpd (ours)",
        DutKind.Bird2 => "BIRD 2",
        DutKind.Bird16 => "BIRD 1.6",
        DutKind.Gobgp => "GoBGP",
        DutKind.Frr => "FRR bgpd",
        _ => kind.ToString(),
    };

    /// <summary>Ours as the lab runs it: the Release build, or the build <c>CALICO_BGPD</c> names (bench/run.sh: the image's).</summary>
    public static string OurDaemonPath => LabTools.Daemon;

    /// <param name="extraArgs">Appended to ours' command line (the soak adds <c>--metrics</c>).</param>
    public static Dut Start(DutKind kind, LabHost host, string config, bool v6, string cores, IEnumerable<string>? extraArgs = null)
    {
        var dir = host.Dir;
        var (file, args) = kind switch
        {
            DutKind.Ours => (v6 ? Bird6Link(dir) : OurDaemonPath, new List<string> { "-f", "-c", host.WriteFile("bird.cfg", config), "-s", Path.Combine(dir, "ours.ctl") }.Concat(extraArgs ?? []).ToList()),
            DutKind.Bird2 => (LabTools.Bird2, ["-f", "-c", host.WriteFile("bird2.cfg", config), "-s", Path.Combine(dir, "bird2.ctl")]),
            DutKind.Bird16 => (Path.Combine(LabTools.Bird16Dir, "usr/sbin", v6 ? "bird6" : "bird"), ["-f", "-c", host.WriteFile("bird16.cfg", config), "-s", Path.Combine(dir, "bird16.ctl")]),
            DutKind.Gobgp => (LabTools.Gobgpd, ["-f", host.WriteFile("gobgpd.toml", config), "-t", "toml", "--api-hosts", "127.0.0.1:50051", "--log-plain", "-l", "warn"]),
            DutKind.Frr => (LabTools.FrrBgpd, FrrArgs(host, config)),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var process = host.Start(kind.ToString(), "taskset", ["-c", cores, file, .. args]);
        var dut = new Dut(kind, process);
        dut.RunHook("started");
        return dut;
    }

    /// <summary>
    /// Runs the command <c>CALICO_BENCH_DUT_HOOK</c> names, if any, for ours: <c>HOOK started PID</c> a
    /// second after the start (its start-up done, before any peer is up) and <c>HOOK stopped PID</c> after
    /// the stop, waiting for each. tools/image-order.sh counts there which of the image's methods run
    /// once a daemon is up.
    /// </summary>
    private void RunHook(string what)
    {
        if (Kind != DutKind.Ours || Environment.GetEnvironmentVariable("CALICO_BENCH_DUT_HOOK") is not { Length: > 0 } hook)
            return;
        if (what == "started")
            Thread.Sleep(TimeSpan.FromSeconds(1));
        using var p = System.Diagnostics.Process.Start(hook, [what, Pid.ToString(CultureInfo.InvariantCulture)]);
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{hook} {what} {Pid} exited with {p.ExitCode}");
    }

    /// <summary>Ours reads the config as bird6 when argv[0] is named so (BIRD 1.6 splits families by binary).</summary>
    private static string Bird6Link(string dir)
    {
        var link = Path.Combine(dir, "bird6");
        if (!File.Exists(link))
            File.CreateSymbolicLink(link, OurDaemonPath);
        return link;
    }

    private static List<string> FrrArgs(LabHost host, string config)
    {
        var vty = Path.Combine(host.Dir, "frr");
        Directory.CreateDirectory(vty);
        return ["-f", host.WriteFile("frr-bgpd.conf", config), "-S", "-Z", "-n", "-P", "0", "--vty_socket", vty, "-i", Path.Combine(vty, "bgpd.pid")];
    }

    /// <summary>CPU seconds (user + system) the DUT used so far.</summary>
    public double CpuSeconds() => CpuSeconds(Pid) + (Zebra is { } z ? CpuSeconds(z.Pid) : 0);

    private static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // Fields after the command name, which is in parentheses and may hold spaces.
        var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture)) / ClockTicks;
    }

    /// <summary>A field of /proc/PID/status in MiB (VmHWM, VmRSS), zebra's added; NaN when there is none.</summary>
    public double StatusMiB(string field) =>
        (ProcStatus.KiB(Pid, field) is { } kib ? kib / 1024.0 : double.NaN)
        + (Zebra is { } z ? (ProcStatus.KiB(z.Pid, field) is { } zk ? zk / 1024.0 : double.NaN) : 0);

    public void ThrowIfExited()
    {
        if (Process.HasExited)
            throw new InvalidOperationException($"{Name(Kind)} exited with {Process.ExitCode}:\n{Tail(Process.Output)}");
        if (Zebra is { HasExited: true } z)
            throw new InvalidOperationException($"zebra exited with {z.ExitCode}:\n{Tail(z.Output)}");
    }

    private static string Tail(string s) => s.Length < 3000 ? s : s[^3000..];

    public async Task StopAsync()
    {
        await Process.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        if (Zebra is { } z)
            await z.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        RunHook("stopped");
    }
}
