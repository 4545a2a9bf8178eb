namespace Calico.Bgp.Rib;

/// <summary>
/// Import counts gathered over one batch of changes (a BGP UPDATE, a re-run of the import filter)
/// and added to <see cref="ProtocolStats"/> at once with <see cref="ProtocolStats.Add"/>: a full
/// table counted route by route paid three interlocked increments per route, 70% of the importer's
/// own time outside the table (bench/RESULTS-perf.md, eleventh round). One writer; readers of the
/// stats see a batch's counts when it ends.
/// </summary>
public struct ImportTally
{
    /// <summary>Change of the routes in the table (the "imported" gauge).</summary>
    public long Imported;
    public long UpdatesAccepted;
    public long UpdatesFiltered;
    public long UpdatesIgnored;
    public long UpdatesRejected;
    public long WithdrawsReceived;
    public long WithdrawsAccepted;

    /// <summary>An announcement the filter accepted (<paramref name="accepted"/>) or filtered.</summary>
    public void Update(bool accepted)
    {
        if (accepted)
            UpdatesAccepted++;
        else
            UpdatesFiltered++;
    }

    /// <summary>A withdrawal, accepted when it removed a route.</summary>
    public void Withdraw(bool accepted)
    {
        WithdrawsReceived++;
        if (accepted)
            WithdrawsAccepted++;
    }
}
