using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Daemon.Metrics;

/// <summary>Kernel protocol metrics, from <see cref="KernelProtocol.Counters"/>.</summary>
internal sealed class KernelMetrics
{
    private readonly ScrapedGauge _installed;
    private readonly ScrapedGauge _learned;
    private readonly ScrapedGauge _pruneHeld;
    private readonly ScrapedGauge _nexthops;
    private readonly ScrapedCounter _writes;
    private readonly ScrapedCounter _writeErrors;
    private readonly ScrapedCounter _scans;
    private readonly ScrapedCounter _resyncs;
    private readonly ScrapedCounter _repairs;

    public KernelMetrics(MetricGroup g)
    {
        _installed = g.Gauge("calico_bgp_kernel_routes_installed", "Routes of ours (proto bird) in the kernel table now.", "protocol");
        _learned = g.Gauge("calico_bgp_kernel_routes_learned", "Alien kernel routes imported now (learn).", "protocol");
        _nexthops = g.Gauge("calico_bgp_kernel_nexthop_objects", "Kernel nexthop objects of ours (proto bird) that routes name; 0 when routes carry their own gateways.", "protocol");
        _pruneHeld = g.Gauge("calico_bgp_kernel_graceful_prune_held", "1 while graceful-restart recovery holds back pruning stale kernel routes.", "protocol");
        _writes = g.Counter("calico_bgp_kernel_route_writes_total", "Route writes sent to the kernel (adds, replaces, deletes).", "protocol");
        _writeErrors = g.Counter("calico_bgp_kernel_route_write_errors_total", "Route writes the kernel refused, by errno.", "protocol", "errno");
        _scans = g.Counter("calico_bgp_kernel_scans_total", "Kernel table scans.", "protocol");
        _resyncs = g.Counter("calico_bgp_kernel_resyncs_total", "Full resyncs forced by lost route notifications (ENOBUFS).", "protocol");
        _repairs = g.Counter("calico_bgp_kernel_repairs_total", "Routes put back or removed because the kernel drifted from what was written.", "protocol");
    }

    public void Collect(IReadOnlyList<Protocol> protocols)
    {
        foreach (var kernel in protocols.OfType<KernelProtocol>())
        {
            var name = kernel.Name;
            var c = kernel.Counters;
            _installed.Set(c.RoutesInstalled, name);
            _learned.Set(c.RoutesLearned, name);
            _pruneHeld.Set(kernel.IsHoldingPrune ? 1 : 0, name);
            _nexthops.Set(c.NexthopObjects, name);
            _writes.Set(c, c.Writes, name);
            foreach (var (errno, count) in c.WriteErrorsByErrno)
                _writeErrors.Set(c, count, name, ErrnoName(errno));
            _scans.Set(c, c.Scans, name);
            _resyncs.Set(c, c.Resyncs, name);
            _repairs.Set(c, c.Repairs, name);
        }
    }

    /// <summary>The errno's symbolic name for the ones route writes meet; others by number.</summary>
    internal static string ErrnoName(int errno) => errno switch
    {
        1 => "EPERM",
        2 => "ENOENT",
        3 => "ESRCH",
        12 => "ENOMEM",
        16 => "EBUSY",
        17 => "EEXIST",
        19 => "ENODEV",
        22 => "EINVAL",
        95 => "EOPNOTSUPP",
        101 => "ENETUNREACH",
        105 => "ENOBUFS",
        113 => "EHOSTUNREACH",
        _ => "E" + errno.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
