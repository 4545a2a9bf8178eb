using System.Diagnostics;
using System.Text.Json;
using Calico.Bgp.Lab;

namespace Calico.Bgp.Daemon.Tests.Hosting;

/// <summary>
/// The built daemon, run as calico-node runs it (<c>-d</c>), with one protocol on
/// <c>debug { states }</c> and one on <c>debug off</c>: only the first writes its state changes, at
/// Debug; a <c>configure</c> swaps the flags without restarting either; the <c>debug</c> command
/// switches them at run time.
/// </summary>
public sealed class ProtocolDebugLogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cbgp-debug-").FullName;
    private readonly List<JsonElement> _lines = [];

    public void Dispose()
    {
        Directory.Delete(_dir, recursive: true);
    }

    private static string Config(string debug1, string debug2) =>
        "router id 10.0.0.1;\nprotocol device { scan time 2; }\n" +
        $"protocol static static1 {{ debug {debug1}; route 10.60.1.0/24 blackhole; }}\n" +
        $"protocol static static2 {{ debug {debug2}; route 10.60.2.0/24 blackhole; }}\n";

    private List<string> StateLines(string protocol)
    {
        lock (_lines)
        {
            return [.. _lines.Where(l => l.GetProperty("Category").GetString() == "Calico.Bgp.Protocol." + protocol && l.GetProperty("EventId").GetInt32() == 1000)
                .Select(l => $"{l.GetProperty("LogLevel").GetString()} {l.GetProperty("Message").GetString()}")];
        }
    }

    private async Task WaitForAsync(string protocol, string line, int count = 1) =>
        await Wait.UntilAsync(() => StateLines(protocol).Count(l => l == line) >= count, TimeSpan.FromSeconds(20), $"{protocol}: '{line}' x{count}");

    private async Task CommandAsync(string sock, params string[] command)
    {
        var r = await Shell.RunAsync(LabTools.Client, ["-s", sock, .. command]);
        Assert.True(r.ExitCode == 0, $"{string.Join(' ', command)}: {r.StdOut}{r.StdErr}");
    }

    [Fact]
    public async Task Debug_states_writes_state_changes_at_debug_and_debug_off_does_not()
    {
        var cfg = Path.Combine(_dir, "bird.cfg");
        await File.WriteAllTextAsync(cfg, Config("{ states }", "off"));
        var sock = Path.Combine(_dir, "bird.ctl");
        var psi = new ProcessStartInfo(LabTools.Daemon) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-d", "--log-format", "json", "-c", cfg, "-s", sock })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
            {
                // Every line is one JSON object (the JSON log format's promise).
                var json = JsonDocument.Parse(line).RootElement.Clone();
                lock (_lines)
                    _lines.Add(json);
            }
        };
        p.BeginErrorReadLine();
        try
        {
            await WaitForAsync("static1", "Debug static1: State changed to up");
            await CommandAsync(sock, "disable", "static1");
            await CommandAsync(sock, "disable", "static2");
            await WaitForAsync("static1", "Debug static1: State changed to down");

            // Reload: static1 goes quiet, static2 speaks; neither restarts (both stay disabled).
            await File.WriteAllTextAsync(cfg, Config("off", "{ states }"));
            await CommandAsync(sock, "configure");
            await CommandAsync(sock, "enable", "static1");
            await CommandAsync(sock, "enable", "static2");
            await WaitForAsync("static2", "Debug static2: State changed to up");

            // The debug command, as in BIRD 1.6: static1 on again for everything, until the next configure.
            await CommandAsync(sock, "debug", "static1", "all");
            await CommandAsync(sock, "disable", "static1");
            await WaitForAsync("static1", "Debug static1: State changed to down", count: 2);
            await CommandAsync(sock, "enable", "static1");
            await WaitForAsync("static1", "Debug static1: State changed to up", count: 2);
        }
        finally
        {
            Signals.Send(p.Id, Signals.Term);
            await p.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(15)).Token);
        }
        // static1: start, up, stop, down while traced; nothing while off (its enable); stop, down,
        // start, up after `debug all`, and stop, down at SIGTERM. static2 from its enable on. Each
        // change is written as it happens, the passing ones too.
        Assert.Equal([.. new[] { "start", "up", "stop", "down", "stop", "down", "start", "up", "stop", "down" }.Select(s => "Debug static1: State changed to " + s)], StateLines("static1"));
        Assert.Equal([.. new[] { "start", "up", "stop", "down" }.Select(s => "Debug static2: State changed to " + s)], StateLines("static2"));
        lock (_lines)
        {
            // Information lines of a quiet protocol still pass: -d does not make them Debug.
            Assert.Contains(_lines, l => l.GetProperty("Message").GetString() == "static2: reconfigured in place" || l.GetProperty("Message").GetString() == "static1: reconfigured in place");
            Assert.DoesNotContain(_lines, l => l.GetProperty("Message").GetString()!.Contains("restarting (configuration changed)", StringComparison.Ordinal));
        }
    }
}
