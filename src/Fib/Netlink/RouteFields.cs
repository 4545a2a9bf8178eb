using Calico.Bgp.Rib;

namespace Calico.Bgp.Fib.Netlink;

/// <summary>
/// One route of a dump read in place: the fields of a <see cref="KernelRouteSpec"/> as a struct,
/// with the next hops of a multipath route in a buffer of the reader's. A scan compares it with the
/// route it holds and builds a <see cref="KernelRouteSpec"/> only for a route that changed, so an
/// unchanged table costs no allocation per route.
/// </summary>
public struct RouteFields
{
    public Prefix Prefix;
    public KernelRouteType Type;
    public IpAddr? Gateway;
    public int OutInterfaceIndex;
    public bool Onlink;
    public uint? Metric;
    public byte Protocol;
    public uint Table;
    public byte Scope;
    public IpAddr? PreferredSource;
    public uint Flags;
    /// <summary>RTA_NH_ID: the nexthop object the route names (0: its next hops are its own). Not compared: the next hops are.</summary>
    public uint NexthopId;

    /// <summary>The fields of <paramref name="route"/> (its next hops are <c>route.NextHops</c>).</summary>
    public static RouteFields Of(KernelRouteSpec route) => new()
    {
        Prefix = route.Prefix,
        Type = route.Type,
        Gateway = route.Gateway,
        OutInterfaceIndex = route.OutInterfaceIndex,
        Onlink = route.Onlink,
        Metric = route.Metric,
        Protocol = route.Protocol,
        Table = route.Table,
        Scope = route.Scope,
        PreferredSource = route.PreferredSource,
        Flags = route.Flags,
    };

    /// <summary>
    /// Whether <paramref name="held"/> is exactly this route with <paramref name="hops"/> (every field
    /// a dump reads, next hops in the same order): then the held object stands for it unchanged.
    /// </summary>
    public readonly bool SameAs(KernelRouteSpec held, ReadOnlySpan<KernelNextHop> hops)
    {
        if (held.Prefix != Prefix || held.Type != Type || held.Gateway != Gateway || held.OutInterfaceIndex != OutInterfaceIndex
            || held.Onlink != Onlink || held.Metric != Metric || held.Protocol != Protocol || held.Table != Table
            || held.Scope != Scope || held.PreferredSource != PreferredSource || held.Flags != Flags)
            return false;
        var heldHops = held.NextHops.IsDefault ? default : held.NextHops.AsSpan();
        return heldHops.SequenceEqual(hops);
    }

    /// <summary>The route as an object of its own (the next hops copied out of the reader's buffer).</summary>
    public readonly KernelRouteSpec ToSpec(ReadOnlySpan<KernelNextHop> hops) => new()
    {
        Prefix = Prefix,
        Type = Type,
        Gateway = Gateway,
        OutInterfaceIndex = OutInterfaceIndex,
        Onlink = Onlink,
        Metric = Metric,
        Protocol = Protocol,
        Table = Table,
        Scope = Scope,
        NextHops = hops.IsEmpty ? default : [.. hops],
        PreferredSource = PreferredSource,
        Flags = Flags,
    };
}

/// <summary>
/// Takes the routes of a dump one by one as they are read (<see cref="IRouteNetlink.DumpRoutesAsync(bool, IRouteDumpSink, CancellationToken)"/>).
/// </summary>
public interface IRouteDumpSink
{
    /// <summary>One route; <paramref name="hops"/> (empty for a single-path route) is valid only during the call.</summary>
    void OnRoute(in RouteFields route, ReadOnlySpan<KernelNextHop> hops);

    /// <summary>The dump was interrupted (NLM_F_DUMP_INTR) and starts over: forget the routes given since it began.</summary>
    void Restart();
}
