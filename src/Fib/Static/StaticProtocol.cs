using System.Collections.Immutable;
using Calico.Bgp.Fib.Interfaces;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Fib.Static;

/// <summary>
/// One <c>route P blackhole;</c> / <c>route P via GW;</c> line, or <c>route P multipath via A [weight N] via B …;</c>
/// (<see cref="RouteDest.Multipath"/> with its gateways in <paramref name="NextHops"/>).
/// </summary>
public sealed record StaticRoute(Prefix Prefix, RouteDest Dest, IpAddr? Gateway = null, ImmutableArray<StaticNextHop> NextHops = default)
{
    /// <summary>Whether the route depends on gateways being reachable (BIRD's neighbour check).</summary>
    public bool HasGateways => Dest is RouteDest.Router or RouteDest.Multipath;
}

/// <summary>One <c>via GW [weight N]</c> of a multipath static route (weight 1..256).</summary>
public readonly record struct StaticNextHop(IpAddr Gateway, int Weight = 1);

/// <summary>A <c>protocol static</c> block.</summary>
public sealed record StaticProtocolOptions
{
    public required string Name { get; init; }
    public IReadOnlyList<StaticRoute> Routes { get; init; } = [];
    public RouteFilter ImportFilter { get; init; } = RouteFilter.AcceptAll;
    public int Preference { get; init; } = 200;
    /// <summary>How often, in seconds, gateways of <c>via</c> routes are checked against the connected subnets.</summary>
    public int CheckTime { get; init; } = 2;
}

/// <summary>
/// BIRD's static protocol: puts its routes in the table. A <c>via</c> route is there only while its
/// gateway lies on a directly connected subnet of an up interface (BIRD's neighbour check), which
/// follows the shared interface source, or is re-checked every <see cref="StaticProtocolOptions.CheckTime"/>
/// seconds without one. A multipath route carries the next hops whose gateways are reachable, is a
/// plain <c>via</c> route while only one is, and is withdrawn when none is (BIRD 1.6's static_install).
/// </summary>
public sealed partial class StaticProtocol : InterfaceTrackingProtocol
{
    // Replaced by a reload that changes only routes or the import filter (see TryReconfigure).
    private StaticProtocolOptions _options;
    private readonly Dictionary<Prefix, Route> _present = [];

    public StaticProtocol(StaticProtocolOptions options, RoutingTable table, TimeProvider time, ILoggerFactory loggers, string? netns = null)
        : this(options, table, time, loggers, () => RtNetlinkClient.Open(netns))
    {
    }

    public StaticProtocol(StaticProtocolOptions options, RoutingTable table, TimeProvider time, ILoggerFactory loggers, Func<IRouteNetlink> openNetlink)
        : base(options.Name, table, time, options.Preference, loggers.CreateLogger("Calico.Bgp.Fib.Static"), openNetlink)
    {
        _options = options;
        Trace = new ProtocolTrace(loggers);
    }

    public override string TypeName => "Static";

    /// <summary>Only <c>via</c> and multipath routes depend on interfaces (BIRD's neighbour check of their gateways).</summary>
    protected override bool NeedsInterfaces => _options.Routes.Any(r => r.HasGateways);

    protected override TimeSpan ScanInterval => TimeSpan.FromSeconds(Math.Max(1, _options.CheckTime));

    /// <summary>Puts in the routes that are usable and takes out the ones that are not.</summary>
    protected override void Sync(InterfaceSnapshot links)
    {
        _lastLinks = links;
        // Counted over the pass and added to Stats once (not interlocked per route).
        long imported = 0, updates = 0, withdraws = 0;
        try
        {
            SyncRoutes(links, ref imported, ref updates, ref withdraws);
        }
        finally
        {
            Stats.AddImportOutcomes(imported, updates, withdraws);
        }
    }

    private void SyncRoutes(InterfaceSnapshot links, ref long imported, ref long updates, ref long withdraws)
    {
        // Multipath routes with the same next hops in a row (a block of prefixes behind the same
        // gateways) share the attributes worked out for the first: nothing per route but the route.
        var multipath = new MultipathMemo();
        foreach (var s in _options.Routes)
        {
            var attrs = s.Dest == RouteDest.Multipath ? multipath.Get(s.NextHops, links, Table.Attributes) : Intern(Attributes(s, links));
            Route? route = null;
            if (attrs is not null)
            {
                route = _options.ImportFilter.Apply(Route.Create(s.Prefix, attrs, this), Table.Attributes);
                if (route is null)
                    TraceFiltered(s.Prefix);
            }
            _present.TryGetValue(s.Prefix, out var old);
            if (route is null)
            {
                if (old is not null)
                {
                    _present.Remove(s.Prefix);
                    Table.Withdraw(s.Prefix, this);
                    imported--;
                    withdraws++;
                    TraceRoute("removed", s.Prefix);
                    if (s.Dest == RouteDest.Multipath)
                        Log.LogInformation("{Protocol}: {Prefix} withdrawn, no gateway of its next hops reachable", Name, s.Prefix);
                    else
                        Log.LogInformation("{Protocol}: {Prefix} withdrawn, gateway {Gateway} not reachable", Name, s.Prefix, s.Gateway);
                }
                continue;
            }
            if (old is not null && ReferenceEquals(old.Attributes, route.Attributes))
                continue;
            if (old is null)
                imported++;
            updates++;
            _present[s.Prefix] = route;
            Table.Update(route);
            TraceRoute(old is null ? "added" : "updated", s.Prefix);
        }
    }

    private PathAttributes? Intern(PathAttributes? a) => a is null ? null : Table.Attributes.Intern(a);

    private static PathAttributes? Attributes(StaticRoute s, InterfaceSnapshot links)
    {
        if (s.Dest != RouteDest.Router)
            return new PathAttributes { Source = RouteSource.Static, Dest = s.Dest };
        if (s.Gateway is not { } gw || links.FindConnected(gw) is not { } dev)
            return null;
        return Via(gw, dev.Name);
    }

    /// <summary>A route via <paramref name="gateway"/>, reached on <paramref name="device"/> (a multipath route with one hop left is one too).</summary>
    internal static PathAttributes Via(IpAddr gateway, string device) =>
        new() { Source = RouteSource.Static, Dest = RouteDest.Router, Gateway = gateway, Interface = device };

    protected override void ForgetRoutes() => _present.Clear();
}
