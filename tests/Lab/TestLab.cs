using System.Collections.Concurrent;
using System.Diagnostics;

namespace Calico.Bgp.Lab;

/// <summary>
/// A set of hosts made of network namespaces, joined by veth pairs or a bridge, for one test.
/// Names carry a per-run prefix (<c>cb-PID-N-</c>) so parallel tests and runs never collide;
/// <see cref="DisposeAsync"/> stops every process the lab started (by PID) and deletes every
/// namespace, also when the test failed. Namespaces left by a run that was killed are swept at the
/// next start. Nothing here touches the host's own interfaces or routes: links are created directly
/// inside the namespaces.
/// </summary>
public sealed class TestLab : IAsyncDisposable
{
    private const string Prefix = "cb-";
    private static int _counter;
    private static readonly ConcurrentDictionary<TestLab, byte> Live = new();
    private static int _swept;

    private readonly List<LabHost> _hosts = [];
    private readonly List<LabProcess> _processes = [];
    private readonly Lock _lock = new();
    private bool _disposed;

    static TestLab()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var lab in Live.Keys)
                lab.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10));
        };
    }

    private TestLab(string id, string dir)
    {
        Id = id;
        Dir = dir;
    }

    /// <summary>Namespace name prefix of this lab, e.g. <c>cb-4242-3-</c>.</summary>
    public string Id { get; }

    /// <summary>A scratch folder for configs, sockets and logs of this lab.</summary>
    public string Dir { get; }

    public IReadOnlyList<LabHost> Hosts => _hosts;

    public static async Task<TestLab> CreateAsync(string name)
    {
        if (Environment.UserName != "root" && Native.GetEuid() != 0)
            throw new InvalidOperationException("the namespace lab needs root (ip netns add)");
        if (Interlocked.Exchange(ref _swept, 1) == 0)
            await SweepStaleAsync().ConfigureAwait(false);
        var n = Interlocked.Increment(ref _counter);
        var id = $"{Prefix}{Environment.ProcessId}-{n}-";
        var dir = Path.Combine(Path.GetTempPath(), $"cbgp-lab-{Environment.ProcessId}-{n}-{Sanitize(name)}");
        Directory.CreateDirectory(dir);
        var lab = new TestLab(id, dir);
        Live[lab] = 0;
        return lab;
    }

    private static string Sanitize(string s) => new(s.Select(c => char.IsLetterOrDigit(c) ? c : '-').Take(40).ToArray());

    /// <summary>Deletes namespaces of earlier runs whose process is gone.</summary>
    public static async Task SweepStaleAsync()
    {
        var list = await Shell.RunAsync("ip", "netns", "list").ConfigureAwait(false);
        foreach (var line in list.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var ns = line.Split(' ')[0];
            if (!ns.StartsWith(Prefix, StringComparison.Ordinal))
                continue;
            var parts = ns.Split('-');
            if (parts.Length < 3 || !int.TryParse(parts[1], out var pid))
                continue;
            if (pid != Environment.ProcessId && !Directory.Exists($"/proc/{pid}"))
                await DeleteNamespaceAsync(ns).ConfigureAwait(false);
        }
    }

    /// <summary>Creates a host: a namespace with loopback up and a folder of its own.</summary>
    public async Task<LabHost> AddHostAsync(string name)
    {
        var netns = Id + name;
        (await Shell.RunAsync("ip", "netns", "add", netns).ConfigureAwait(false)).ThrowIfFailed($"ip netns add {netns}");
        var host = new LabHost(this, name, netns, Path.Combine(Dir, name));
        lock (_lock)
            _hosts.Add(host);
        Directory.CreateDirectory(host.Dir);
        (await host.IpAsync("link", "set", "lo", "up").ConfigureAwait(false)).ThrowIfFailed("lo up");
        // Let a test write IPv6 addresses and routes without waiting for DAD.
        await host.RunAsync("sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0").ConfigureAwait(false);
        await host.RunAsync("sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0").ConfigureAwait(false);
        return host;
    }

    /// <summary>
    /// Joins two hosts with a veth pair created directly inside their namespaces, assigns the
    /// addresses (CIDR notation, IPv4 or IPv6) and brings both ends up.
    /// </summary>
    public async Task ConnectAsync(LabHost a, string aCidr, LabHost b, string bCidr, string? aDev = null, string? bDev = null)
    {
        aDev ??= a.NextInterfaceName();
        bDev ??= b.NextInterfaceName();
        (await Shell.RunAsync("ip", "link", "add", "name", aDev, "netns", a.Netns, "type", "veth", "peer", "name", bDev, "netns", b.Netns).ConfigureAwait(false))
            .ThrowIfFailed($"veth {a.Name}:{aDev} <-> {b.Name}:{bDev}");
        await a.AddAddressAsync(aDev, aCidr).ConfigureAwait(false);
        await b.AddAddressAsync(bDev, bCidr).ConfigureAwait(false);
    }

    /// <summary>
    /// Joins several hosts to one bridge (living in a namespace of its own), each with the given
    /// address, as nodes on one subnet.
    /// </summary>
    public async Task<LabHost> ConnectToSwitchAsync(string switchName, params (LabHost Host, string Cidr)[] members)
    {
        var sw = await AddHostAsync(switchName).ConfigureAwait(false);
        (await sw.IpAsync("link", "add", "br0", "type", "bridge").ConfigureAwait(false)).ThrowIfFailed("bridge");
        (await sw.IpAsync("link", "set", "br0", "up").ConfigureAwait(false)).ThrowIfFailed("bridge up");
        foreach (var (host, cidr) in members)
        {
            var dev = host.NextInterfaceName();
            var port = sw.NextInterfaceName();
            (await Shell.RunAsync("ip", "link", "add", "name", dev, "netns", host.Netns, "type", "veth", "peer", "name", port, "netns", sw.Netns).ConfigureAwait(false))
                .ThrowIfFailed($"veth {host.Name} to {switchName}");
            (await sw.IpAsync("link", "set", port, "master", "br0").ConfigureAwait(false)).ThrowIfFailed("bridge port");
            (await sw.IpAsync("link", "set", port, "up").ConfigureAwait(false)).ThrowIfFailed("bridge port up");
            await host.AddAddressAsync(dev, cidr).ConfigureAwait(false);
        }
        return sw;
    }

    internal LabProcess Track(LabProcess p)
    {
        lock (_lock)
            _processes.Add(p);
        return p;
    }

    /// <summary>The output of every process, for a failure message.</summary>
    public string Diagnostics()
    {
        lock (_lock)
            return string.Join("\n", _processes.Select(p => $"---- {p} exited={p.HasExited}\n{Tail(p.Output, 4000)}"));
    }

    private static string Tail(string s, int n) => s.Length <= n ? s : s[^n..];

    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            if (_disposed)
                return;
            _disposed = true;
        }
        Live.TryRemove(this, out _);
        foreach (var p in _processes)
        {
            try
            {
                await p.DisposeAsync().ConfigureAwait(false);
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        }
        foreach (var h in _hosts)
            await DeleteNamespaceAsync(h.Netns).ConfigureAwait(false);
        // Configs, sockets, captures: what a failure needs is in its message (Diagnostics).
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
            // Something still holds a file; /tmp is cleaned eventually.
        }
    }

    private static async Task DeleteNamespaceAsync(string netns)
    {
        // Kill anything still running inside first (only processes in our own namespace), then delete.
        var pids = await Shell.RunAsync("ip", "netns", "pids", netns).ConfigureAwait(false);
        foreach (var line in pids.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (int.TryParse(line.Trim(), out var pid) && pid != Environment.ProcessId)
                _ = Native.Kill(pid, Native.SigKill);
        }
        var r = await Shell.RunAsync("ip", "netns", "delete", netns).ConfigureAwait(false);
        if (!r.Ok && !r.StdErr.Contains("No such file", StringComparison.Ordinal))
            Trace.TraceWarning($"ip netns delete {netns}: {r.StdErr}");
    }
}
