using System.Diagnostics;

namespace Calico.Bgp.Lab;

/// <summary>One host of a <see cref="TestLab"/>: a network namespace and a scratch folder.</summary>
public sealed class LabHost
{
    private int _interfaces;

    internal LabHost(TestLab lab, string name, string netns, string dir)
    {
        Lab = lab;
        Name = name;
        Netns = netns;
        Dir = dir;
    }

    public TestLab Lab { get; }
    public string Name { get; }
    public string Netns { get; }
    public string Dir { get; }

    /// <summary>Addresses assigned through the lab, in order (without the length).</summary>
    public List<string> Addresses { get; } = [];

    /// <summary>The first address assigned to this host.</summary>
    public string Address => Addresses.Count > 0 ? Addresses[0] : throw new InvalidOperationException($"{Name} has no address");

    internal string NextInterfaceName() => $"eth{_interfaces++}";

    public Task<CommandResult> IpAsync(params string[] args) => Shell.RunAsync("ip", ["-n", Netns, .. args]);

    /// <summary>Runs a command inside the namespace to completion.</summary>
    public Task<CommandResult> RunAsync(string file, params string[] args) =>
        Shell.RunAsync("ip", ["netns", "exec", Netns, file, .. args]);

    public Task<CommandResult> RunAsync(TimeSpan timeout, string file, params string[] args) =>
        Shell.RunAsync("ip", ["netns", "exec", Netns, file, .. args], timeout);

    public async Task AddAddressAsync(string dev, string cidr)
    {
        (await IpAsync("addr", "add", cidr, "dev", dev).ConfigureAwait(false)).ThrowIfFailed($"{Name}: addr {cidr} on {dev}");
        (await IpAsync("link", "set", dev, "up").ConfigureAwait(false)).ThrowIfFailed($"{Name}: {dev} up");
        Addresses.Add(cidr.Split('/')[0]);
    }

    /// <summary>
    /// Starts a long-running process inside the namespace. <c>ip netns exec</c> execs the program,
    /// so the PID is the program's own and stopping it stops exactly that program.
    /// </summary>
    public LabProcess Start(string name, string file, IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo("ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Dir,
        };
        foreach (var a in (string[])["netns", "exec", Netns, file, .. args])
            psi.ArgumentList.Add(a);
        if (environment is not null)
        {
            foreach (var (k, v) in environment)
                psi.Environment[k] = v;
        }
        var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        return Lab.Track(new LabProcess($"{Name}/{name}", p));
    }

    /// <summary>The namespace's main routing table, parsed.</summary>
    public async Task<IReadOnlyList<KernelRoute>> RoutesAsync(bool ipv6 = false, string table = "main")
    {
        var r = await IpAsync(ipv6 ? "-6" : "-4", "-j", "route", "show", "table", table).ConfigureAwait(false);
        r.ThrowIfFailed($"{Name}: ip route");
        return KernelRoute.ParseJson(r.StdOut);
    }

    /// <summary>The namespace's nexthop objects, parsed.</summary>
    public async Task<IReadOnlyList<KernelNexthop>> NexthopsAsync()
    {
        var r = await IpAsync("-j", "nexthop", "show").ConfigureAwait(false);
        r.ThrowIfFailed($"{Name}: ip nexthop");
        return KernelNexthop.ParseJson(r.StdOut);
    }

    /// <summary>Routes as <c>ip route</c> prints them, for failure messages.</summary>
    public async Task<string> RoutesTextAsync(bool ipv6 = false)
    {
        var r = await IpAsync(ipv6 ? "-6" : "-4", "route", "show", "table", "all").ConfigureAwait(false);
        return $"{Name} routes:\n{r.StdOut}";
    }

    /// <summary>Writes a file into this host's folder and returns its path.</summary>
    public string WriteFile(string name, string content)
    {
        var path = Path.Combine(Dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    public override string ToString() => Name;
}
