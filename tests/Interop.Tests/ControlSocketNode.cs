namespace Calico.Bgp.Interop.Tests;

/// <summary>Which daemon plays node A.</summary>
public enum NodeADaemon
{
    Bird16,
    Ours,
}

/// <summary>
/// The small Calico-shaped topology the control-socket tests run twice, once with BIRD 1.6 as node A
/// and once with our daemon, from the same BIRD 1.6-dialect config: A (10.99.0.2) with a static
/// blackhole block, kernel/device/direct protocols and a workload interface whose /32 the kernel
/// protocol learns; B (10.99.0.1) and C (10.99.0.3) are BIRD 2 peers on the same switch. C's BIRD is
/// started only when a test asks for it, so by default its row shows <c>Active</c>/<c>Connect</c>
/// with <c>Socket: Connection refused</c>.
/// </summary>
public sealed class ControlSocketNode : IAsyncDisposable
{
    public const string PeerB = "Mesh_10_99_0_1";
    public const string PeerC = "Mesh_10_99_0_3";

    private ControlSocketNode(TestLab lab, LabHost a, LabHost b, LabHost c, NodeADaemon daemon)
    {
        Lab = lab;
        A = a;
        B = b;
        C = c;
        Daemon = daemon;
    }

    public TestLab Lab { get; }
    public LabHost A { get; }
    public LabHost B { get; }
    public LabHost C { get; }
    public NodeADaemon Daemon { get; }
    public string Socket => Path.Combine(A.Dir, "bird.ctl");
    public string ConfigPath => Path.Combine(A.Dir, "bird.cfg");
    public LabProcess? Process { get; private set; }
    public BirdPeer? BirdB { get; private set; }
    public BirdPeer? BirdC { get; private set; }

    /// <summary>
    /// Node A's config, as Calico's confd shapes it. <paramref name="peers"/> selects the BGP
    /// protocols (none, for a node without peers); <paramref name="gracefulRestart"/> adds Calico's
    /// <c>graceful restart;</c> to the kernel protocol and the BGP template.
    /// </summary>
    public static string NodeAConfig(bool gracefulRestart = true, params string[] peers)
    {
        var gr = gracefulRestart ? "graceful restart;" : "";
        var bgp = string.Concat(peers.Select(p => $$"""
            protocol bgp {{p}} from bgp_template {
              neighbor {{p["Mesh_".Length..].Replace('_', '.')}} as 64512;
              source address 10.99.0.2;
              ttl security off;
              multihop;
              import all;
              export filter {
                if (net ~ 10.65.0.0/16) then accept;
                reject;
              };
              graceful restart time 120;
            }

            """));
        return $$"""
            # Node A, in the shape of Calico confd's bird.cfg (BIRD 1.6 dialect).
            function apply_communities ()
            {
            }
            filter calico_kernel_programming {
              if (net ~ 10.65.0.0/16) then { accept; }
              accept;
            }
            router id 10.99.0.2;
            protocol static {
              route 10.65.2.0/26 blackhole;
            }
            protocol kernel {
              learn;             # Learn all alien routes from the kernel
              persist;           # Don't remove routes on bird shutdown
              scan time 2;       # Scan kernel routing table every 2 seconds
              import all;
              export filter calico_kernel_programming;
              {{gr}}
              merge paths on;
            }
            protocol device {
              scan time 2;
            }
            protocol direct {
              interface -"cali*", -"kube-ipvs*", "*";
            }
            template bgp bgp_template {
              description "Connection to BGP peer";
              local as 64512;
              gateway recursive;
              add paths on;
              {{gr}}
              connect delay time 2;
              connect retry time 5;
              error wait time 5,30;
            }
            {{bgp}}
            """;
    }

    /// <summary>BIRD 2 on B or C: peers with A and announces its node's block and a workload /32.</summary>
    public static string PeerConfig(string self, string block, string workload) => $$"""
        router id {{self}};
        protocol device { scan time 2; }
        protocol static {
          ipv4;
          route {{block}} blackhole;
          route {{workload}} blackhole;
        }
        protocol bgp Mesh_10_99_0_2 {
          local {{self}} as 64512;
          neighbor 10.99.0.2 as 64512;
          connect retry time 1;
          multihop;
          graceful restart;
          ipv4 { import all; export all; };
        }
        """;

    /// <summary>Builds the hosts and the switch, starts B's BIRD (and C's when asked); node A is started apart.</summary>
    public static async Task<ControlSocketNode> CreateAsync(NodeADaemon daemon, string name, bool startB = true, bool startC = false)
    {
        var lab = await TestLab.CreateAsync($"{name}-{daemon}");
        try
        {
            var a = await lab.AddHostAsync("a");
            var b = await lab.AddHostAsync("b");
            var c = await lab.AddHostAsync("c");
            var sw = await lab.ConnectToSwitchAsync("sw", (a, "10.99.0.2/24"), (b, "10.99.0.1/24"), (c, "10.99.0.3/24"));
            // A workload interface, as Felix makes it: a veth whose /32 route the kernel protocol learns.
            (await Shell.RunAsync("ip", "link", "add", "name", "cali1a2b3c4d5e6", "netns", a.Netns, "type", "veth", "peer", "name", "wl0", "netns", sw.Netns)).ThrowIfFailed("workload veth");
            (await sw.IpAsync("link", "set", "wl0", "up")).ThrowIfFailed("workload peer up");
            (await a.IpAsync("link", "set", "cali1a2b3c4d5e6", "up")).ThrowIfFailed("workload up");
            (await a.IpAsync("route", "add", "10.65.2.5/32", "dev", "cali1a2b3c4d5e6")).ThrowIfFailed("workload route");
            var node = new ControlSocketNode(lab, a, b, c, daemon);
            if (startB)
                await node.StartPeerBAsync();
            if (startC)
                await node.StartPeerCAsync();
            return node;
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
    }

    public async Task StartPeerBAsync() =>
        BirdB = await BirdPeer.StartBird2Async(B, PeerConfig("10.99.0.1", "10.65.1.0/26", "10.65.1.7/32"));

    public async Task StartPeerCAsync() =>
        BirdC = await BirdPeer.StartBird2Async(C, PeerConfig("10.99.0.3", "10.65.3.0/26", "10.65.3.9/32"));

    /// <summary>
    /// Starts node A the way calico-node starts BIRD (<c>bird [-R] -s SOCKET -d -c CONFIG</c>) and
    /// waits until its socket answers.
    /// </summary>
    public async Task StartAAsync(string config, bool recover = false)
    {
        await File.WriteAllTextAsync(ConfigPath, config);
        string[] args = ["-d", "-c", ConfigPath, "-s", Socket, .. recover ? new[] { "-R" } : []];
        Process = Daemon == NodeADaemon.Bird16
            ? A.Start("bird", LabTools.Bird16, args)
            : A.Start("calico-bgpd", LabTools.Daemon, args);
        await Wait.UntilAsync(async () =>
        {
            if (Process.HasExited)
                throw new InvalidOperationException($"{Daemon} exited with {Process.ExitCode}:\n{Process.Output}");
            return File.Exists(Socket) && (await ControlSocketClient.RawOrEmptyAsync(Socket, "show status")).Contains("0013 ", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(20), $"{Daemon} on node A to answer on its control socket");
    }

    /// <summary>A raw reply to one command (banner first).</summary>
    public Task<string> RawAsync(string command) => ControlSocketClient.RawAsync(Socket, command);

    /// <summary>The <c>show protocols</c> info column of one protocol, from the raw reply.</summary>
    public async Task<string> InfoAsync(string protocol)
    {
        var row = (await RawAsync($"show protocols {protocol}")).Split('\n').FirstOrDefault(l => l.StartsWith("1002-", StringComparison.Ordinal)) ?? "";
        var columns = row[5..].Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
        return columns.Length > 5 ? columns[5] : "";
    }

    public async Task<string> DescribeAsync() =>
        $"node A ({Daemon}):\n" + await RawAsync("show protocols") + await RawAsync("show route") + await A.RoutesTextAsync() + Lab.Diagnostics();

    public ValueTask DisposeAsync() => Lab.DisposeAsync();
}
