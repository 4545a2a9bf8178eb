namespace Calico.Bgp.Interop.Tests;

/// <summary>
/// The lab itself: each reference peer runs in a namespace, peers with BIRD 2 in another, and the
/// route it announces is read back — so a failing interop test points at our daemon, not the lab.
/// </summary>
public class LabTests
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(40);

    private static async Task<(TestLab Lab, LabHost A, LabHost B)> TwoHostsAsync(string name)
    {
        var lab = await TestLab.CreateAsync(name);
        var a = await lab.AddHostAsync("a");
        var b = await lab.AddHostAsync("b");
        await lab.ConnectAsync(a, "10.0.0.1/24", b, "10.0.0.2/24");
        return (lab, a, b);
    }

    [Fact]
    public void Proc_status_reads_a_field_in_kib_and_nothing_for_a_missing_one()
    {
        var pid = Environment.ProcessId;
        var rss = ProcStatus.RssKiB(pid);
        Assert.True(rss > 0);
        // The peak, read after, is at least what was resident before.
        Assert.True(ProcStatus.KiB(pid, "VmHWM") >= rss);
        Assert.Null(ProcStatus.KiB(pid, "NoSuchField"));
    }

    [Fact]
    public async Task Bird16_and_bird2_exchange_routes()
    {
        var (lab, a, b) = await TwoHostsAsync("lab-bird16");
        await using var _ = lab;
        var bird2 = await BirdPeer.StartBird2Async(a, PeerConfigs.Bird2("10.0.0.1", "10.0.0.1", 64512, "10.0.0.2", 64512, "10.60.1.0/24"));
        var bird16 = await BirdPeer.StartBird16Async(b, PeerConfigs.Bird16("10.0.0.2", "10.0.0.2", 64512, "10.0.0.1", 64512, "10.50.1.0/24"));
        await Wait.UntilAsync(async () => (await bird2.CommandAsync("show route")).Contains("10.50.1.0/24", StringComparison.Ordinal)
                && (await bird16.CommandAsync("show route")).Contains("10.60.1.0/24", StringComparison.Ordinal),
            Converge, "BIRD 1.6 and BIRD 2 to exchange routes", async () => await bird2.CommandAsync("show protocols all peer1") + lab.Diagnostics());
        Assert.True(await bird16.IsEstablishedAsync("peer1"));
    }

    [Fact]
    public async Task Gobgp_and_bird2_exchange_routes()
    {
        var (lab, a, b) = await TwoHostsAsync("lab-gobgp");
        await using var _ = lab;
        var bird2 = await BirdPeer.StartBird2Async(a, PeerConfigs.Bird2("10.0.0.1", "10.0.0.1", 64512, "10.0.0.2", 64513, "10.60.1.0/24"));
        var gobgp = await GobgpPeer.StartAsync(b, PeerConfigs.Gobgp("10.0.0.2", 64513, "10.0.0.1", 64512));
        (await gobgp.CliAsync("global", "rib", "add", "10.50.1.0/24", "-a", "ipv4")).ThrowIfFailed("gobgp rib add");
        await Wait.UntilAsync(async () => (await bird2.CommandAsync("show route")).Contains("10.50.1.0/24", StringComparison.Ordinal)
                && (await gobgp.CliAsync("global", "rib")).StdOut.Contains("10.60.1.0/24", StringComparison.Ordinal),
            Converge, "GoBGP and BIRD 2 to exchange routes", async () => await bird2.CommandAsync("show protocols all peer1") + lab.Diagnostics());
        Assert.True(await gobgp.IsEstablishedAsync("10.0.0.1"));
    }

    [Fact]
    public async Task Frr_and_bird2_exchange_routes()
    {
        var (lab, a, b) = await TwoHostsAsync("lab-frr");
        await using var _ = lab;
        var bird2 = await BirdPeer.StartBird2Async(a, PeerConfigs.Bird2("10.0.0.1", "10.0.0.1", 64512, "10.0.0.2", 64514, "10.60.1.0/24"));
        var frr = await FrrPeer.StartAsync(b, PeerConfigs.Frr("10.0.0.2", 64514, "10.0.0.1", 64512, "10.50.1.0/24"));
        await Wait.UntilAsync(async () => (await bird2.CommandAsync("show route")).Contains("10.50.1.0/24", StringComparison.Ordinal)
                && (await frr.VtyshAsync("show bgp ipv4 unicast")).StdOut.Contains("10.60.1.0/24", StringComparison.Ordinal),
            Converge, "FRR and BIRD 2 to exchange routes", async () => await bird2.CommandAsync("show protocols all peer1") + lab.Diagnostics());
    }

    [Fact]
    public async Task Cleanup_deletes_the_namespaces_and_stops_the_processes()
    {
        string netns;
        LabProcess sleeper;
        await using (var lab = await TestLab.CreateAsync("lab-cleanup"))
        {
            var a = await lab.AddHostAsync("a");
            netns = a.Netns;
            sleeper = a.Start("sleep", "/bin/sleep", ["600"]);
            Assert.Contains(netns, (await Shell.RunAsync("ip", "netns", "list")).StdOut, StringComparison.Ordinal);
        }
        Assert.DoesNotContain(netns, (await Shell.RunAsync("ip", "netns", "list")).StdOut, StringComparison.Ordinal);
        Assert.True(sleeper.HasExited);
    }
}
