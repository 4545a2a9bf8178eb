using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Fib.Interfaces;

/// <summary>A <c>protocol direct</c> block.</summary>
public sealed record DirectProtocolOptions
{
    public required string Name { get; init; }
    /// <summary><c>interface -"cali*", "*";</c> in order; the first match decides.</summary>
    public IReadOnlyList<InterfacePattern> InterfacePatterns { get; init; } = [new(false, "*")];
    public int Preference { get; init; } = 240;
    /// <summary>The family of this instance (bird6 when true).</summary>
    public bool Ipv6 { get; init; }
    /// <summary>Both families in one instance (the daemon's <c>--dual-stack</c>); <see cref="Ipv6"/> is then ignored.</summary>
    public bool BothFamilies { get; init; }
    /// <summary>How often, in seconds, interfaces are re-read.</summary>
    public int ScanTime { get; init; } = 2;
    public RouteFilter ImportFilter { get; init; } = RouteFilter.AcceptAll;
}

/// <summary>
/// BIRD's direct protocol: a device route (RTS_DEVICE) for each connected subnet of an up interface
/// the patterns include. Addresses of link or host scope (127/8, fe80::/10) are skipped, as BIRD's
/// <c>dev_ifa_notify</c> does.
/// </summary>
public sealed class DirectProtocol : InterfaceTrackingProtocol
{
    private readonly DirectProtocolOptions _options;
    private readonly Dictionary<Prefix, PathAttributes> _present = [];

    public DirectProtocol(DirectProtocolOptions options, RoutingTable table, TimeProvider time, ILoggerFactory loggers, string? netns = null)
        : this(options, table, time, loggers, () => RtNetlinkClient.Open(netns))
    {
    }

    public DirectProtocol(DirectProtocolOptions options, RoutingTable table, TimeProvider time, ILoggerFactory loggers, Func<IRouteNetlink> openNetlink)
        : base(options.Name, table, time, options.Preference, loggers.CreateLogger("Calico.Bgp.Fib.Direct"), openNetlink)
    {
        _options = options;
        Trace = new ProtocolTrace(loggers);
    }

    public override string TypeName => "Direct";

    protected override TimeSpan ScanInterval => TimeSpan.FromSeconds(Math.Max(1, _options.ScanTime));

    /// <summary>The connected prefixes wanted now, each with the first interface (by index) that has it.</summary>
    internal static Dictionary<Prefix, string> Wanted(InterfaceSnapshot links, DirectProtocolOptions options)
    {
        var wanted = new Dictionary<Prefix, string>();
        foreach (var i in links.Interfaces)
        {
            if (!i.IsUp || !InterfacePattern.Includes(options.InterfacePatterns, i.Name))
                continue;
            foreach (var a in i.Addresses)
            {
                if (!options.BothFamilies && a.Address.IsV6 != options.Ipv6 || a.Scope >= Rtnl.ScopeLink)
                    continue;
                wanted.TryAdd(a.Subnet, i.Name);
            }
        }
        return wanted;
    }

    protected override void Sync(InterfaceSnapshot links)
    {
        var wanted = Wanted(links, _options);
        foreach (var (prefix, ifname) in wanted)
        {
            var attrs = Table.Attributes.Intern(new PathAttributes { Source = RouteSource.Device, Dest = RouteDest.Device, Interface = ifname });
            if (_present.TryGetValue(prefix, out var old) && ReferenceEquals(old, attrs))
                continue;
            var route = _options.ImportFilter.Apply(Route.Create(prefix, attrs, this), Table.Attributes);
            Stats.CountImportUpdate(route is not null);
            if (route is null)
            {
                TraceFiltered(prefix);
                continue;
            }
            if (old is null)
                Stats.AddImported(1);
            _present[prefix] = attrs;
            Table.Update(route);
            TraceRoute(old is null ? "added" : "updated", prefix);
        }
        foreach (var gone in _present.Keys.Where(p => !wanted.ContainsKey(p)).ToList())
        {
            _present.Remove(gone);
            Table.Withdraw(gone, this);
            Stats.AddImported(-1);
            Stats.CountImportWithdraw(true);
            TraceRoute("removed", gone);
        }
    }

    protected override void ForgetRoutes() => _present.Clear();
}
