using Calico.Bgp.Daemon.Hosting;
using Calico.Bgp.Lab;

namespace Calico.Bgp.Daemon.Tests.Hosting;

/// <summary>The built calico-bgpd binary, run the ways Calico and operators run BIRD.</summary>
public class DaemonProcessTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cbgp-daemon-").FullName;

    public void Dispose()
    {
        Directory.Delete(_dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public async Task Parse_only_accepts_a_valid_config_with_exit_code_0()
    {
        var cfg = Write("bird.cfg", "router id 10.0.0.1;\nprotocol device { scan time 2; }\nprotocol static { route 10.60.1.0/24 blackhole; }\n");
        var r = await Shell.RunAsync(LabTools.Daemon, "-p", "-c", cfg);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.StdErr);
    }

    [Fact]
    public async Task Parse_only_reports_file_line_col_and_fails()
    {
        var cfg = Write("bad.cfg", "router id 10.0.0.1;\nprotocol static {\n  route 10.60.1.0/24 blackhol;\n}\n");
        var r = await Shell.RunAsync(LabTools.Daemon, "-p", "-c", cfg);
        Assert.NotEqual(0, r.ExitCode);
        Assert.StartsWith($"{cfg}:3:", r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_config_is_reported_and_fails()
    {
        var r = await Shell.RunAsync(LabTools.Daemon, "-p", "-c", Path.Combine(_dir, "none.cfg"));
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("none.cfg", r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_flags_exit_2_with_a_clear_message()
    {
        var r = await Shell.RunAsync(LabTools.Daemon, "-Z");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("invalid option -- 'Z'", r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_and_help_answer_and_exit_0()
    {
        var v = await Shell.RunAsync(LabTools.Daemon, "--version");
        Assert.Equal(0, v.ExitCode);
        Assert.StartsWith("BIRD version v0.3.3+birdv1.6.8+calico-bgp-", v.StdErr, StringComparison.Ordinal);
        var h = await Shell.RunAsync(LabTools.Daemon, "--help");
        Assert.Equal(0, h.ExitCode);
        Assert.Contains("-c <config-file>", h.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Runs_with_a_socket_writes_its_pid_and_exits_cleanly_on_SIGTERM()
    {
        var cfg = Write("bird.cfg", "router id 10.0.0.1;\nprotocol device { scan time 2; }\nprotocol static { route 10.60.1.0/24 blackhole; }\n");
        var sock = Path.Combine(_dir, "bird.ctl");
        var pidFile = Path.Combine(_dir, "bird.pid");
        using var p = StartDaemon("-d", "-c", cfg, "-s", sock, "-P", pidFile);
        var stderr = p.StandardError.ReadToEndAsync();
        try
        {
            await Wait.UntilAsync(() => File.Exists(sock) && File.Exists(pidFile), TimeSpan.FromSeconds(20), "the socket and pid file");
            Assert.Equal(p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadAllText(pidFile).Trim());
            var reply = await Shell.RunAsync(LabTools.Bird2Client, "-s", sock, "show", "protocols");
            Assert.Contains("static1", reply.StdOut, StringComparison.Ordinal);
            Assert.Contains("device1", reply.StdOut, StringComparison.Ordinal);
        }
        finally
        {
            Assert.True(Signals.Send(p.Id, Signals.Term));
            await p.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(15)).Token);
        }
        Assert.Equal(0, p.ExitCode);
        Assert.False(File.Exists(sock), "the control socket is removed on exit");
        Assert.False(File.Exists(pidFile), "the pid file is removed on exit");
        Assert.Contains("Shutdown completed", await stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SIGTERM_while_the_protocols_are_still_starting_is_a_clean_stop_not_a_crash()
    {
        // The control socket is bound before any protocol starts; a SIGTERM the moment it appears
        // lands while the device, kernel and static protocols are starting (an unhandled
        // TaskCanceledException and exit 134 before the fix).
        var cfg = Write("bird.cfg", "router id 10.0.0.1;\nprotocol kernel { learn; scan time 2; export all; }\nprotocol device { scan time 2; }\nprotocol direct { interface \"*\"; }\nprotocol static { route 10.60.1.0/24 blackhole; }\n");
        var sock = Path.Combine(_dir, "bird.ctl");
        var pidFile = Path.Combine(_dir, "bird.pid");
        using var p = StartDaemon("-d", "-c", cfg, "-s", sock, "-P", pidFile);
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        await Wait.UntilAsync(() => File.Exists(sock) || p.HasExited, TimeSpan.FromSeconds(20), "the control socket");
        Assert.True(Signals.Send(p.Id, Signals.Term));
        await p.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(15)).Token);
        var output = await stderr + await stdout;
        Assert.DoesNotContain("Unhandled exception", output, StringComparison.Ordinal);
        Assert.Equal(0, p.ExitCode);
        // However far the start got, the stop ran: nothing is left for the next daemon to trip on.
        Assert.False(File.Exists(sock), "the control socket is removed on exit");
        Assert.False(File.Exists(pidFile), "the pid file is removed on exit");
        Assert.Contains("Shutdown completed", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Started_with_SIGHUP_and_SIGTERM_ignored_it_still_reloads_on_SIGHUP_and_stops_on_SIGTERM()
    {
        // As under nohup, or a supervisor's shell that ignores them: an ignored signal stays ignored
        // across exec. BIRD handles both regardless; before the fix the reload never happened.
        var cfg = Write("bird.cfg", "router id 10.0.0.1;\nprotocol device { scan time 2; }\nprotocol static { route 10.60.1.0/24 blackhole; }\n");
        var sock = Path.Combine(_dir, "bird.ctl");
        var psi = new System.Diagnostics.ProcessStartInfo("sh") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in (string[])["-c", "trap '' HUP TERM; exec \"$0\" \"$@\"", LabTools.Daemon, "-d", "-c", cfg, "-s", sock])
            psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        try
        {
            await Wait.UntilAsync(() => File.Exists(sock) || p.HasExited, TimeSpan.FromSeconds(20), "the control socket");
            Assert.False(p.HasExited, "the daemon exited at start");
            async Task<string> Routes() => (await Shell.RunAsync(LabTools.Bird2Client, "-s", sock, "show", "route")).StdOut;
            await Wait.UntilAsync(async () => (await Routes()).Contains("10.60.1.0/24", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "the first static route");

            Write("bird.cfg", "router id 10.0.0.1;\nprotocol device { scan time 2; }\nprotocol static { route 10.60.1.0/24 blackhole; route 10.60.2.0/24 blackhole; }\n");
            Assert.True(Signals.Send(p.Id, Signals.Hup));
            await Wait.UntilAsync(async () => (await Routes()).Contains("10.60.2.0/24", StringComparison.Ordinal), TimeSpan.FromSeconds(20),
                "the route the reload adds", Routes);
        }
        finally
        {
            Signals.Send(p.Id, Signals.Term);
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await p.WaitForExitAsync(stop.Token);
            }
            catch (OperationCanceledException)
            {
                p.Kill(); // SIGTERM still ignored: the daemon is not left behind
                throw;
            }
        }
        Assert.Equal(0, p.ExitCode);
        var output = await stderr + await stdout;
        Assert.Contains("SIGHUP was ignored when the daemon started", output, StringComparison.Ordinal);
        Assert.Contains("Shutdown completed", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_daemon_on_the_same_socket_refuses_to_start_and_the_first_keeps_running()
    {
        var cfg = Write("bird.cfg", "router id 10.0.0.1;\nprotocol device { scan time 2; }\n");
        var sock = Path.Combine(_dir, "bird.ctl");
        using var first = StartDaemon("-d", "-c", cfg, "-s", sock);
        try
        {
            await Wait.UntilAsync(() => File.Exists(sock), TimeSpan.FromSeconds(20), "the first daemon's socket");
            var second = await Shell.RunAsync(LabTools.Daemon, "-d", "-c", cfg, "-s", sock);
            Assert.Equal(1, second.ExitCode);
            Assert.Contains("Another daemon is already running", second.StdErr, StringComparison.Ordinal);
            Assert.False(first.HasExited);
            var reply = await Shell.RunAsync(LabTools.Bird2Client, "-s", sock, "show", "status");
            Assert.Contains("Daemon is up and running", reply.StdOut, StringComparison.Ordinal);
        }
        finally
        {
            Signals.Send(first.Id, Signals.Term);
            await first.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(15)).Token);
        }
    }

    [Fact]
    public async Task A_socket_that_cannot_be_created_is_a_clear_error_at_start()
    {
        var cfg = Write("bird.cfg", "router id 10.0.0.1;\nprotocol device { scan time 2; }\n");
        // A regular file where the socket's folder should be: nothing can be created under it.
        var blocker = Write("not-a-dir", "");
        var r = await Shell.RunAsync(LabTools.Daemon, "-d", "-c", cfg, "-s", Path.Combine(blocker, "bird.ctl"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("Cannot create control socket", r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task After_a_burst_of_work_goes_quiet_the_daemon_gives_its_memory_back()
    {
        var cfg = Write("bird.cfg", "router id 10.0.0.1;\nprotocol device { scan time 2; }\nprotocol static { route 10.60.1.0/24 blackhole; }\n");
        var sock = Path.Combine(_dir, "bird.ctl");
        using var p = StartDaemon("-d", "-c", cfg, "-s", sock);
        var output = Capture(p);
        try
        {
            await Wait.UntilAsync(() => File.Exists(sock) || p.HasExited, TimeSpan.FromSeconds(20), "the control socket");
            Assert.False(p.HasExited, "the daemon exited at start");
            // Start-up's tail (the first scans) is given back once the daemon is quiet.
            await WaitForLineAsync(output, "Gave memory back after start-up went quiet", TimeSpan.FromSeconds(30), "the collection after start-up");
            // The burst: a reload that reads and installs 20,000 routes.
            var big = new System.Text.StringBuilder("router id 10.0.0.1;\nprotocol device { scan time 2; }\nprotocol static {\n");
            for (var i = 0; i < 20_000; i++)
                big.Append("  route 10.").Append(64 + (i >> 16)).Append('.').Append((i >> 8) & 255).Append('.').Append(i & 255).Append("/32 blackhole;\n");
            Write("bird.cfg", big.Append("}\n").ToString());
            Assert.True(Signals.Send(p.Id, Signals.Hup));
            async Task<string> Count() => (await Shell.RunAsync(LabTools.Bird2Client, "-s", sock, "show", "route", "count")).StdOut;
            await Wait.UntilAsync(async () => (await Count()).Contains("20000 of 20000 routes", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "the reload's routes", Count);
            // Quiet from then on: one collection within a few looks (when it comes is MemoryReturnerQuietTests').
            await WaitForLineAsync(output, "Gave memory back after a burst", TimeSpan.FromSeconds(30), "the collection after the burst");
        }
        finally
        {
            Assert.True(Signals.Send(p.Id, Signals.Term));
            await p.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(15)).Token);
        }
        Assert.Equal(0, p.ExitCode);
    }

    [Fact]
    public async Task A_reload_is_given_back_once_the_daemon_is_quiet_again()
    {
        var cfg = Write("bird.cfg", "router id 10.0.0.1;\nprotocol device { scan time 2; }\n");
        var sock = Path.Combine(_dir, "bird.ctl");
        using var p = StartDaemon("-d", "-c", cfg, "-s", sock);
        var output = Capture(p);
        try
        {
            await WaitForLineAsync(output, "Gave memory back after start-up went quiet", TimeSpan.FromSeconds(30), "the collection after start-up");
            // A reload that allocates far less than a burst: its garbage and the parser's pages still go back.
            Write("bird.cfg", "router id 10.0.0.1;\nprotocol device { scan time 2; }\nprotocol static { route 10.60.1.0/24 blackhole; }\n");
            Assert.True(Signals.Send(p.Id, Signals.Hup));
            await WaitForLineAsync(output, "Gave memory back after a reload went quiet", MemoryReturner.MinInterval + TimeSpan.FromSeconds(30), "the collection after the reload");
        }
        finally
        {
            Assert.True(Signals.Send(p.Id, Signals.Term));
            await p.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(15)).Token);
        }
        Assert.Equal(0, p.ExitCode);
    }

    /// <summary>Waits until the captured <paramref name="output"/> holds <paramref name="text"/>; a timeout shows all of it.</summary>
    private static Task WaitForLineAsync(Func<string> output, string text, TimeSpan timeout, string what) =>
        Wait.UntilAsync(() => Task.FromResult(output().Contains(text, StringComparison.Ordinal)), timeout, what, () => Task.FromResult(output()));

    /// <summary>Collects <paramref name="p"/>'s stdout and stderr from now on; the function returns what came so far.</summary>
    private static Func<string> Capture(System.Diagnostics.Process p)
    {
        var output = new System.Text.StringBuilder();
        p.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        p.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        p.BeginErrorReadLine();
        p.BeginOutputReadLine();
        return () =>
        {
            lock (output)
                return output.ToString();
        };
    }

    /// <summary>Our daemon as a process with <paramref name="args"/>, its stdout and stderr redirected.</summary>
    private static System.Diagnostics.Process StartDaemon(params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(LabTools.Daemon) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        return System.Diagnostics.Process.Start(psi)!;
    }
}
