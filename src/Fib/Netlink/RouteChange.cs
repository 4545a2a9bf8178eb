namespace Calico.Bgp.Fib.Netlink;

public enum RouteChangeKind : byte
{
    /// <summary>
    /// RTM_NEWROUTE with NLM_F_CREATE|NLM_F_EXCL: never takes over another owner's route of the same
    /// key (BIRD 1.6's <c>nl_add_rte</c>); fails with EEXIST instead.
    /// </summary>
    Add,
    /// <summary>RTM_NEWROUTE with NLM_F_CREATE|NLM_F_REPLACE, for a route of ours with the same key.</summary>
    Replace,
    /// <summary>RTM_DELROUTE.</summary>
    Delete,
}

/// <summary>One write in a batch to the kernel.</summary>
public readonly record struct RouteChange(RouteChangeKind Kind, KernelRouteSpec Route)
{
    public static RouteChange Add(KernelRouteSpec route) => new(RouteChangeKind.Add, route);
    public static RouteChange Replace(KernelRouteSpec route) => new(RouteChangeKind.Replace, route);
    public static RouteChange Delete(KernelRouteSpec route) => new(RouteChangeKind.Delete, route);

    public override string ToString() => $"{Kind.ToString().ToLowerInvariant()} {Route}";
}

/// <summary>
/// What the kernel protocols need from rtnetlink; <see cref="RtNetlinkClient"/> is the real one,
/// tests can put an in-memory one in its place.
/// </summary>
public interface IRouteNetlink : IDisposable
{
    /// <summary>The port id the kernel stamps on notifications caused by this netlink's own writes.</summary>
    uint PortId { get; }

    /// <summary>
    /// Opens a listener in the same network namespace joined to <paramref name="groups"/> (RTNLGRP_*),
    /// or returns null when this netlink cannot listen (then only scans see changes). Notifications
    /// caused by this netlink's own writes may be left out (they are known already).
    /// </summary>
    INetlinkListener? OpenListener(IReadOnlyList<int> groups);

    /// <summary>Writes the changes, many per sendmsg; one result per change, in order.</summary>
    Task<NetlinkResult[]> ApplyAsync(IReadOnlyList<RouteChange> changes, CancellationToken cancellationToken);

    Task<IReadOnlyList<KernelRouteSpec>> DumpRoutesAsync(bool ipv6, CancellationToken cancellationToken);

    /// <summary>
    /// Dumps one family's routes into <paramref name="sink"/> as they are read, without building a
    /// route object each (the periodic scan). This default goes through the list.
    /// </summary>
    async Task DumpRoutesAsync(bool ipv6, IRouteDumpSink sink, CancellationToken cancellationToken)
    {
        foreach (var r in await DumpRoutesAsync(ipv6, cancellationToken).ConfigureAwait(false))
            sink.OnRoute(RouteFields.Of(r), r.IsMultipath ? r.NextHops.AsSpan() : default);
    }

    /// <summary>Whether routes name nexthop objects: null until known (the first write), false when they carry their gateways.</summary>
    bool? NexthopObjectsInUse => false;

    /// <summary>Our nexthop objects known now.</summary>
    int NexthopObjectCount => 0;

    /// <summary>
    /// A scan's first step where routes name nexthop objects: reads the objects back from the
    /// kernel, so one removed or changed by someone else is not named again.
    /// </summary>
    Task SyncNexthopsAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>A scan's last step: removes our nexthop objects no route read by the scan names; returns how many.</summary>
    Task<int> PruneNexthopsAsync(CancellationToken cancellationToken) => Task.FromResult(0);

    /// <summary>On stop, once our routes are gone: removes our nexthop objects no route names; returns how many.</summary>
    Task<int> RemoveUnusedNexthopsAsync(CancellationToken cancellationToken) => Task.FromResult(0);

    Task<IReadOnlyList<LinkInfo>> DumpLinksAsync(CancellationToken cancellationToken);

    Task<IReadOnlyList<AddressInfo>> DumpAddressesAsync(bool ipv6, CancellationToken cancellationToken);

    /// <summary>
    /// Dumps the links, then the IPv4 and the IPv6 addresses into <paramref name="sink"/> as they are
    /// read (the periodic interface scan, which mostly finds nothing changed). This default goes
    /// through the lists.
    /// </summary>
    async Task DumpInterfacesAsync(IInterfaceDumpSink sink, CancellationToken cancellationToken)
    {
        foreach (var l in await DumpLinksAsync(cancellationToken).ConfigureAwait(false))
            sink.OnLink(new LinkFields(l.Index, System.Text.Encoding.UTF8.GetBytes(l.Name), System.Text.Encoding.UTF8.GetBytes(l.Kind), l.Flags, l.Mtu, l.LinkType));
        foreach (var ipv6 in (bool[])[false, true])
        {
            foreach (var a in await DumpAddressesAsync(ipv6, cancellationToken).ConfigureAwait(false))
                sink.OnAddress(new AddressFields(a.InterfaceIndex, a.Address, a.PrefixLength, a.Peer, a.Scope, a.Flags));
        }
    }
}
