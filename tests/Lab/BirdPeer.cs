namespace Calico.Bgp.Lab;

/// <summary>
/// A real BIRD (2, or 1.6 from tools/bird1.6) running inside a lab host with its own config and
/// control socket, driven through its own birdc.
/// </summary>
public sealed class BirdPeer
{
    private BirdPeer(LabHost host, string binary, string client, string config, string socket)
    {
        Host = host;
        Binary = binary;
        Client = client;
        ConfigPath = config;
        Socket = socket;
    }

    public LabHost Host { get; }
    public string Binary { get; }
    public string Client { get; }
    public string ConfigPath { get; }
    public string Socket { get; }
    public LabProcess? Process { get; private set; }

    /// <summary>Starts BIRD 2 with <paramref name="config"/> and waits for its control socket.</summary>
    public static Task<BirdPeer> StartBird2Async(LabHost host, string config, string name = "bird2") =>
        StartAsync(host, LabTools.Bird2, LabTools.Bird2Client, config, name);

    /// <summary>Starts BIRD 1.6 with <paramref name="config"/> and waits for its control socket.</summary>
    public static Task<BirdPeer> StartBird16Async(LabHost host, string config, string name = "bird16") =>
        StartAsync(host, LabTools.Bird16, LabTools.Bird16Client, config, name);

    private static async Task<BirdPeer> StartAsync(LabHost host, string binary, string client, string config, string name)
    {
        var cfg = host.WriteFile($"{name}.conf", config);
        var sock = Path.Combine(host.Dir, $"{name}.ctl");
        var peer = new BirdPeer(host, binary, client, cfg, sock);
        await peer.RestartAsync().ConfigureAwait(false);
        return peer;
    }

    /// <summary>
    /// (Re)starts the BIRD process in the foreground and waits for its socket to answer.
    /// <paramref name="extraArgs"/> go on BIRD's command line (e.g. <c>-R</c>: graceful-restart recovery,
    /// so the new OPEN keeps the forwarding state bit, RFC 4724 §3).
    /// </summary>
    public async Task RestartAsync(params string[] extraArgs)
    {
        if (Process is { HasExited: false })
            await Process.StopAsync().ConfigureAwait(false);
        if (File.Exists(Socket))
            File.Delete(Socket);
        Process = Host.Start(Path.GetFileName(ConfigPath), Binary, ["-f", "-c", ConfigPath, "-s", Socket, .. extraArgs]);
        await Wait.UntilAsync(async () =>
        {
            if (Process.HasExited)
                throw new InvalidOperationException($"BIRD exited with {Process.ExitCode}:\n{Process.Output}");
            return File.Exists(Socket) && (await CommandAsync("show status").ConfigureAwait(false)).Contains("ready", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(15), $"BIRD on {Host.Name} to start").ConfigureAwait(false);
    }

    /// <summary>Runs one birdc command and returns what birdc printed.</summary>
    public async Task<string> CommandAsync(string command)
    {
        var r = await Shell.RunAsync(Client, ["-s", Socket, .. command.Split(' ', StringSplitOptions.RemoveEmptyEntries)]).ConfigureAwait(false);
        return r.StdOut + r.StdErr;
    }

    /// <summary>Writes a new config and asks BIRD to load it (<c>configure</c>).</summary>
    public async Task ReconfigureAsync(string config)
    {
        await File.WriteAllTextAsync(ConfigPath, config).ConfigureAwait(false);
        var reply = await CommandAsync("configure").ConfigureAwait(false);
        if (!reply.Contains("Reconfigured", StringComparison.Ordinal) && !reply.Contains("Reconfiguration in progress", StringComparison.Ordinal))
            throw new InvalidOperationException($"BIRD configure failed: {reply}");
    }

    /// <summary>Whether <c>show protocols NAME</c> says the BGP session is Established.</summary>
    public async Task<bool> IsEstablishedAsync(string protocol) =>
        (await CommandAsync($"show protocols {protocol}").ConfigureAwait(false)).Contains("Established", StringComparison.Ordinal);
}
