using Calico.Bgp.Rib;

namespace Calico.Bgp.Fib.Kernel;

/// <summary>A <c>protocol kernel</c> block (BIRD 1.6), for one address family.</summary>
public sealed record KernelProtocolOptions
{
    public required string Name { get; init; }
    /// <summary><c>persist</c>: leave exported routes in the kernel when stopping.</summary>
    public bool Persist { get; init; }
    /// <summary><c>learn</c>: import alien kernel routes (not proto kernel, not ours) into the table.</summary>
    public bool Learn { get; init; }
    /// <summary><c>scan time</c>, seconds: how often the kernel table is re-read and drift repaired.</summary>
    public int ScanTime { get; init; } = 60;
    public RouteFilter ImportFilter { get; init; } = RouteFilter.AcceptAll;
    public RouteFilter ExportFilter { get; init; } = RouteFilter.RejectAll;
    /// <summary><c>graceful restart</c>: with <see cref="HoldPrune"/>, old routes stay until recovery ends.</summary>
    public bool GracefulRestart { get; init; }
    /// <summary>
    /// Keep routes of ours found at start that are not (yet) wanted, until
    /// <see cref="KernelProtocol.EndGracefulRecovery"/> is called; set by the daemon when started with
    /// <c>-R</c> and the protocol has <c>graceful restart</c>.
    /// </summary>
    public bool HoldPrune { get; init; }
    /// <summary><c>merge paths on</c>: equally good best BGP routes become one multipath route.</summary>
    public bool MergePaths { get; init; }
    public int MergePathsLimit { get; init; } = 16;
    /// <summary><c>kernel table</c>; 254 is main.</summary>
    public int KernelTable { get; init; } = 254;
    public int Preference { get; init; } = 10;
    /// <summary>The family of this instance (bird6 when true).</summary>
    public bool Ipv6 { get; init; }
    /// <summary>Both families in one instance (the daemon's <c>--dual-stack</c>); <see cref="Ipv6"/> is then ignored.</summary>
    public bool BothFamilies { get; init; }

    /// <summary>Whether this instance syncs routes of <paramref name="prefix"/>'s family.</summary>
    public bool Handles(Prefix prefix) => BothFamilies || prefix.IsV6 == Ipv6;
    /// <summary><c>device routes</c>: export routes without a gateway (Dest=Device) too.</summary>
    public bool DeviceRoutes { get; init; }
    /// <summary>
    /// How long a prefix must stay still in the table before it is written (unless a backlog is being
    /// caught up on): its paths arriving together from several sessions are then written once, as one
    /// route. Per prefix, so the prefixes of a burst are written as it goes on. Before a resync, the
    /// whole table must stay still this long (polled at this step). Zero writes at once. One
    /// millisecond is far longer than a burst of table updates takes between its changes and far
    /// shorter than anything a kernel route is waited for.
    /// </summary>
    public TimeSpan ExportSettleMin { get; init; } = TimeSpan.FromMilliseconds(1);
    /// <summary>The longest a steady stream of changes delays a prefix (from its first change held) or a resync.</summary>
    public TimeSpan ExportSettleMax { get; init; } = TimeSpan.FromMilliseconds(20);
    /// <summary>
    /// How many table changes the protocol may fall behind before it resyncs from the table instead
    /// of replaying them (its journal reader's capacity).
    /// </summary>
    public int JournalCapacity { get; init; } = RoutingTable.DefaultJournalCapacity;
    /// <summary>Listen to route notifications (RTNLGRP_IPV4/IPV6_ROUTE) to repair drift before the next scan.</summary>
    public bool Notifications { get; init; } = true;
    /// <summary>
    /// Routes with gateways name shared kernel nexthop objects (RTA_NH_ID, Linux 5.3) instead of
    /// carrying their gateways, where the kernel has them: the same routes to anyone reading them
    /// (<c>ip route</c> adds <c>nhid N</c>), in about half the kernel's time for 4-way ECMP
    /// (bench/RESULTS-kernel.md). Off writes every route as BIRD does.
    /// </summary>
    public bool NexthopObjects { get; init; } = true;
}
