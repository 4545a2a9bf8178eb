namespace Calico.Bgp.Lab;

/// <summary>
/// A real FRR bgpd inside a lab host, run without zebra (it only needs to speak BGP) and queried
/// through vtysh on a socket folder of its own.
/// </summary>
public sealed class FrrPeer
{
    private FrrPeer(LabHost host, string config, string vtyDir)
    {
        Host = host;
        ConfigPath = config;
        VtyDir = vtyDir;
    }

    public LabHost Host { get; }
    public string ConfigPath { get; }
    public string VtyDir { get; }
    public LabProcess? Process { get; private set; }

    /// <summary>Starts bgpd with <paramref name="config"/> (FRR syntax) and waits for vtysh to answer.</summary>
    public static async Task<FrrPeer> StartAsync(LabHost host, string config)
    {
        var vty = Path.Combine(host.Dir, "frr");
        Directory.CreateDirectory(vty);
        var peer = new FrrPeer(host, host.WriteFile("frr-bgpd.conf", config), vty);
        await peer.RestartAsync().ConfigureAwait(false);
        return peer;
    }

    public async Task RestartAsync()
    {
        if (Process is { HasExited: false })
            await Process.StopAsync().ConfigureAwait(false);
        Process = Host.Start("bgpd", LabTools.FrrBgpd,
            ["-f", ConfigPath, "-S", "-Z", "-n", "-P", "0", "--vty_socket", VtyDir, "-i", Path.Combine(VtyDir, "bgpd.pid"), "--log", "stdout"]);
        await Wait.UntilAsync(async () =>
        {
            if (Process.HasExited)
                throw new InvalidOperationException($"bgpd exited with {Process.ExitCode}:\n{Process.Output}");
            return (await VtyshAsync("show bgp summary").ConfigureAwait(false)).Ok;
        }, TimeSpan.FromSeconds(15), $"FRR bgpd on {Host.Name} to start").ConfigureAwait(false);
    }

    /// <summary>Runs one vtysh command against this bgpd.</summary>
    public Task<CommandResult> VtyshAsync(string command) =>
        Host.RunAsync("vtysh", "--vty_socket", VtyDir, "-d", "bgpd", "-c", command);
}
