namespace Calico.Bgp.Lab;

/// <summary>
/// Our daemon (calico-bgpd, built by the solution) inside a lab host, started with BIRD's command
/// line and queried through its control socket with a BIRD client.
/// </summary>
public sealed class OurDaemon
{
    private OurDaemon(LabHost host, string config, string socket, IReadOnlyList<string> extraArgs)
    {
        Host = host;
        ConfigPath = config;
        Socket = socket;
        ExtraArgs = extraArgs;
    }

    public LabHost Host { get; }
    public string ConfigPath { get; }
    public string Socket { get; }
    public IReadOnlyList<string> ExtraArgs { get; }
    public LabProcess? Process { get; private set; }

    /// <summary>Writes <paramref name="config"/>, starts <c>calico-bgpd -d -c … -s …</c> and waits for the socket.</summary>
    public static async Task<OurDaemon> StartAsync(LabHost host, string config, params string[] extraArgs)
    {
        var d = new OurDaemon(host, host.WriteFile("bird.cfg", config), Path.Combine(host.Dir, "bird.ctl"), extraArgs);
        await d.StartAsync().ConfigureAwait(false);
        return d;
    }

    public async Task StartAsync(params string[] moreArgs)
    {
        Process = Host.Start("calico-bgpd", LabTools.Daemon, ["-d", "-c", ConfigPath, "-s", Socket, .. ExtraArgs, .. moreArgs]);
        await Wait.UntilAsync(async () =>
        {
            if (Process.HasExited)
                throw new InvalidOperationException($"calico-bgpd exited with {Process.ExitCode}:\n{Process.Output}");
            return File.Exists(Socket) && (await CommandAsync("show status").ConfigureAwait(false)).Contains("ready", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(20), $"calico-bgpd on {Host.Name} to start").ConfigureAwait(false);
    }

    /// <summary>Runs one command through Debian's birdc (BIRD 2's client speaks the same protocol).</summary>
    public async Task<string> CommandAsync(string command)
    {
        var r = await Shell.RunAsync(LabTools.Bird2Client, ["-s", Socket, .. command.Split(' ', StringSplitOptions.RemoveEmptyEntries)]).ConfigureAwait(false);
        return r.StdOut + r.StdErr;
    }

    /// <summary>Whether <c>show protocols NAME</c> shows the session Established.</summary>
    public async Task<bool> IsEstablishedAsync(string protocol) =>
        (await CommandAsync($"show protocols {protocol}").ConfigureAwait(false)).Contains("Established", StringComparison.Ordinal);

    public Task StopAsync() => Process?.StopAsync() ?? Task.CompletedTask;

    public Task KillAsync() => Process?.KillAsync() ?? Task.CompletedTask;

    /// <summary>Writes a new config and sends SIGHUP, as Calico's confd does (<c>sv hup bird</c>).</summary>
    public async Task ReloadAsync(string config)
    {
        await File.WriteAllTextAsync(ConfigPath, config).ConfigureAwait(false);
        Process?.Signal(Signals.Hup);
    }
}
