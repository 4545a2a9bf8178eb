namespace Calico.Bgp.Lab;

/// <summary>A real GoBGP (gobgpd) inside a lab host, with a TOML config and its gRPC API on loopback.</summary>
public sealed class GobgpPeer
{
    private GobgpPeer(LabHost host, string config, int apiPort)
    {
        Host = host;
        ConfigPath = config;
        ApiPort = apiPort;
    }

    public LabHost Host { get; }
    public string ConfigPath { get; }
    public int ApiPort { get; }
    public LabProcess? Process { get; private set; }

    /// <summary>Starts gobgpd with <paramref name="tomlConfig"/> and waits for its API.</summary>
    public static async Task<GobgpPeer> StartAsync(LabHost host, string tomlConfig, int apiPort = 50051)
    {
        var peer = new GobgpPeer(host, host.WriteFile("gobgpd.toml", tomlConfig), apiPort);
        await peer.RestartAsync().ConfigureAwait(false);
        return peer;
    }

    public async Task RestartAsync()
    {
        if (Process is { HasExited: false })
            await Process.StopAsync().ConfigureAwait(false);
        // The API listens on the namespace's own loopback, so every host can use the same port.
        Process = Host.Start("gobgpd", LabTools.Gobgpd, ["-f", ConfigPath, "-t", "toml", "--api-hosts", $"127.0.0.1:{ApiPort}", "--log-plain"]);
        await Wait.UntilAsync(async () =>
        {
            if (Process.HasExited)
                throw new InvalidOperationException($"gobgpd exited with {Process.ExitCode}:\n{Process.Output}");
            return (await CliAsync("global").ConfigureAwait(false)).Ok;
        }, TimeSpan.FromSeconds(15), $"gobgpd on {Host.Name} to start").ConfigureAwait(false);
    }

    /// <summary>Runs the gobgp CLI against this daemon, e.g. <c>neighbor</c> or <c>global rib</c>.</summary>
    public Task<CommandResult> CliAsync(params string[] args) =>
        Host.RunAsync(LabTools.Gobgp, ["-u", "127.0.0.1", "-p", ApiPort.ToString(System.Globalization.CultureInfo.InvariantCulture), .. args]);

    /// <summary>Whether the neighbor's session state is established.</summary>
    public async Task<bool> IsEstablishedAsync(string neighbor)
    {
        var r = await CliAsync("neighbor", neighbor).ConfigureAwait(false);
        return r.StdOut.Contains("BGP state = established", StringComparison.OrdinalIgnoreCase);
    }
}
