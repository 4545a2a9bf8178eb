using System.Globalization;
using System.Text;
using Calico.Bgp.Lab;

namespace Calico.Bgp.LoadGen.Orchestration;

/// <summary>
/// A fresh pair of namespaces per run: the DUT alone, the generator with one address per
/// speaker, joined by one veth pair. Built on the lab library, so namespaces and processes go
/// away on dispose, also when a run fails.
/// </summary>
public sealed class BenchLab : IAsyncDisposable
{
    private BenchLab(TestLab lab, LabHost dut, LabHost generator)
    {
        Lab = lab;
        DutHost = dut;
        Generator = generator;
    }

    public TestLab Lab { get; }
    public LabHost DutHost { get; }
    public LabHost Generator { get; }

    public static async Task<BenchLab> CreateAsync(string name, int speakers, bool v6)
    {
        var lab = await TestLab.CreateAsync("cbench-" + name).ConfigureAwait(false);
        try
        {
            var dut = await lab.AddHostAsync("dut").ConfigureAwait(false);
            var gen = await lab.AddHostAsync("gen").ConfigureAwait(false);
            await lab.ConnectAsync(dut, $"{Topology.DutV4}/{Topology.V4Length}", gen, $"10.0.0.254/{Topology.V4Length}", "eth0", "eth0").ConfigureAwait(false);
            var batch = new StringBuilder();
            if (v6)
            {
                (await dut.IpAsync("addr", "add", $"{Topology.DutV6}/{Topology.V6Length}", "dev", "eth0", "nodad").ConfigureAwait(false)).ThrowIfFailed("dut v6");
            }
            for (var i = 0; i < speakers; i++)
            {
                var cidr = v6 ? $"{Topology.SpeakerV6(i)}/{Topology.V6Length}" : $"{Topology.SpeakerV4(i)}/{Topology.V4Length}";
                batch.Append(CultureInfo.InvariantCulture, $"addr add {cidr} dev eth0{(v6 ? " nodad" : "")}\n");
            }
            (await Shell.RunAsync("ip", ["-n", gen.Netns, "-batch", "-"], TimeSpan.FromSeconds(60), batch.ToString()).ConfigureAwait(false)).ThrowIfFailed("speaker addresses");
            // The DUT keeps a neighbour entry per speaker; make room beyond the default 1024.
            foreach (var host in (LabHost[])[dut, gen])
            {
                await host.RunAsync("sysctl", "-qw", "net.ipv4.neigh.default.gc_thresh3=8192").ConfigureAwait(false);
                await host.RunAsync("sysctl", "-qw", "net.ipv6.neigh.default.gc_thresh3=8192").ConfigureAwait(false);
            }
            return new BenchLab(lab, dut, gen);
        }
        catch
        {
            await lab.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Calico's workload side in the DUT's namespace (P6): <paramref name="interfaces"/> veth pairs
    /// named <c>cali…</c> (the pod end stays in the namespace too: only the host end matters to the
    /// daemon), up, and <paramref name="routes"/> /32 routes over them as Felix writes them, with
    /// <c>proto static</c> so the kernel protocol's <c>learn</c> takes them in.
    /// </summary>
    public async Task AddWorkloadsAsync(int interfaces, int routes)
    {
        var links = new StringBuilder();
        for (var i = 0; i < interfaces; i++)
        {
            links.Append(CultureInfo.InvariantCulture, $"link add cali{i:x11} type veth peer name pod{i:x11}\n");
            links.Append(CultureInfo.InvariantCulture, $"link set cali{i:x11} up\nlink set pod{i:x11} up\n");
        }
        (await Shell.RunAsync("ip", ["-n", DutHost.Netns, "-batch", "-"], TimeSpan.FromSeconds(120), links.ToString()).ConfigureAwait(false)).ThrowIfFailed("workload interfaces");
        var table = new StringBuilder();
        for (var i = 0; i < routes; i++)
            table.Append(CultureInfo.InvariantCulture, $"route add 10.128.{i >> 8}.{i & 255}/32 dev cali{i % interfaces:x11} proto static scope link\n");
        (await Shell.RunAsync("ip", ["-n", DutHost.Netns, "-batch", "-"], TimeSpan.FromSeconds(120), table.ToString()).ConfigureAwait(false)).ThrowIfFailed("workload routes");
    }

    /// <summary>Routes the DUT's kernel holds with proto bird (12), which ours and BIRD write.</summary>
    public async Task<int> KernelRoutesAsync(string proto)
    {
        var r = await DutHost.IpAsync("-4", "route", "show", "proto", proto).ConfigureAwait(false);
        return r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
    }

    public ValueTask DisposeAsync() => Lab.DisposeAsync();
}
