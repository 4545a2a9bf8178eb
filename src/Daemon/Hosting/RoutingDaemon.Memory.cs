namespace Calico.Bgp.Daemon.Hosting;

internal sealed partial class RoutingDaemon
{
    /// <summary>
    /// Gives back what start-up allocated and no longer holds: the host's set-up, the config's text,
    /// tokens and intermediate records, each protocol's construction. That is all garbage in gen0,
    /// and no collection comes until 16 MiB have been allocated (Gen0MaxBudget), so until then every
    /// byte of it is resident; the first ordinary collection then copies the survivors into new
    /// regions while the old ones stay committed for reuse. One aggressive collection here (the heap
    /// is only the config and the protocols, no routes yet) compacts the survivors and decommits the
    /// freed regions: P2's peak RSS at K=100 and 500 fell by 2.4 and 8 MiB; at K=1000 the GC's
    /// steady state sets the peak either way (bench/RESULTS-perf.md, eighth round).
    /// </summary>
    private static void ReturnStartupMemory() => MemoryReturner.CollectAndReturn();
}
