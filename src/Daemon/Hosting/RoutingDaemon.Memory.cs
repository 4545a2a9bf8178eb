namespace Calico.Bgp.Daemon.Hosting;

internal sealed partial class RoutingDaemon
{
    /// <summary>
    /// Gives back what start-up allocated and no longer holds: the config's text, tokens and
    /// intermediate records, each protocol's construction (the host's own set-up went before them,
    /// <see cref="ReturnHostMemory"/>). That is all garbage in gen0,
    /// and no collection comes until 16 MiB have been allocated (Gen0MaxBudget), so until then every
    /// byte of it is resident; the first ordinary collection then copies the survivors into new
    /// regions while the old ones stay committed for reuse. One aggressive collection here (the heap
    /// is only the config and the protocols, no routes yet) compacts the survivors and decommits the
    /// freed regions: P2's peak RSS at K=100 and 500 fell by 2.4 and 8 MiB; at K=1000 the GC's
    /// steady state sets the peak either way (bench/RESULTS-perf.md, eighth round).
    /// </summary>
    private static void ReturnStartupMemory() => MemoryReturner.CollectAndReturn();

    /// <summary>
    /// Gives back what the host's own set-up left (the service container, options, logging, the
    /// metrics endpoint: garbage in gen0, and image pages touched once) before the config and the
    /// protocols are made, so it is not resident together with what they make. A small daemon's peak
    /// is this start-up's high-water mark: P2 at K=100 15.8–16.3 → 14.1–14.6 MiB, an idle daemon with
    /// 100 neighbours 16.6–16.9 → 14.6–14.8 (bench/RESULTS-perf.md, twentieth round). The heap is a
    /// few MiB here: the start to the "Started" line took 20–30 ms with it and without.
    /// </summary>
    private static void ReturnHostMemory() => MemoryReturner.CollectAndReturn();
}
