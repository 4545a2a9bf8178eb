namespace Calico.Bgp.Rib;

/// <summary>
/// Route counters of one protocol, as <c>show protocols all</c> prints them ("Routes:" and
/// "Route change stats:"). Updated with interlocked operations by the protocol's own loops.
/// </summary>
public sealed class ProtocolStats
{
    private long _imported;
    private long _filtered;
    private long _exported;
    private long _importUpdatesReceived;
    private long _importUpdatesFiltered;
    private long _importUpdatesAccepted;
    private long _importWithdrawsReceived;
    private long _importWithdrawsAccepted;
    private long _exportUpdatesSent;
    private long _exportUpdatesFiltered;
    private long _exportWithdrawsSent;
    private long _importUpdatesRejected;
    private long _importUpdatesIgnored;
    private long _exportUpdatesRejected;
    private long _exportWithdrawsReceived;

    /// <summary>Routes this protocol currently has in its table (after the import filter).</summary>
    public long Imported => Interlocked.Read(ref _imported);
    /// <summary>Routes rejected by the import filter and held back.</summary>
    public long Filtered => Interlocked.Read(ref _filtered);
    /// <summary>Routes currently exported to this protocol.</summary>
    public long Exported => Interlocked.Read(ref _exported);

    public long ImportUpdatesReceived => Interlocked.Read(ref _importUpdatesReceived);
    public long ImportUpdatesFiltered => Interlocked.Read(ref _importUpdatesFiltered);
    public long ImportUpdatesAccepted => Interlocked.Read(ref _importUpdatesAccepted);
    public long ImportWithdrawsReceived => Interlocked.Read(ref _importWithdrawsReceived);
    public long ImportWithdrawsAccepted => Interlocked.Read(ref _importWithdrawsAccepted);
    public long ExportUpdatesSent => Interlocked.Read(ref _exportUpdatesSent);
    public long ExportUpdatesFiltered => Interlocked.Read(ref _exportUpdatesFiltered);
    public long ExportWithdrawsSent => Interlocked.Read(ref _exportWithdrawsSent);

    /// <summary>BIRD's import "rejected": received updates that were invalid (e.g. RFC 7606 treat-as-withdraw).</summary>
    public long ImportUpdatesRejected => Interlocked.Read(ref _importUpdatesRejected);
    /// <summary>BIRD's import "ignored": received updates the same as the route already held.</summary>
    public long ImportUpdatesIgnored => Interlocked.Read(ref _importUpdatesIgnored);
    /// <summary>BIRD's import withdraws "ignored": withdrawals of a route not held.</summary>
    public long ImportWithdrawsIgnored => Math.Max(0, ImportWithdrawsReceived - ImportWithdrawsAccepted);
    /// <summary>BIRD's export "rejected": routes the protocol's own rules refused before the filter (<c>import_control</c>).</summary>
    public long ExportUpdatesRejected => Interlocked.Read(ref _exportUpdatesRejected);
    /// <summary>BIRD's export updates "received": every route offered, whatever came of it.</summary>
    public long ExportUpdatesReceived => ExportUpdatesSent + ExportUpdatesFiltered + ExportUpdatesRejected;
    /// <summary>BIRD's export withdraws "received": removals offered to the protocol (those sent are <see cref="ExportWithdrawsSent"/>).</summary>
    public long ExportWithdrawsReceived => Interlocked.Read(ref _exportWithdrawsReceived);

    public void AddImported(long delta) => Interlocked.Add(ref _imported, delta);
    public void AddFiltered(long delta) => Interlocked.Add(ref _filtered, delta);
    public void AddExported(long delta) => Interlocked.Add(ref _exported, delta);
    public void CountImportUpdate(bool accepted)
    {
        Interlocked.Increment(ref _importUpdatesReceived);
        Interlocked.Increment(ref accepted ? ref _importUpdatesAccepted : ref _importUpdatesFiltered);
    }
    public void CountImportWithdraw(bool accepted)
    {
        Interlocked.Increment(ref _importWithdrawsReceived);
        if (accepted)
            Interlocked.Increment(ref _importWithdrawsAccepted);
    }
    /// <summary>An update received and dropped as invalid: counts as received and rejected.</summary>
    public void CountImportUpdateRejected()
    {
        Interlocked.Increment(ref _importUpdatesReceived);
        Interlocked.Increment(ref _importUpdatesRejected);
    }

    /// <summary>An update received that changes nothing: counts as received and ignored.</summary>
    public void CountImportUpdateIgnored()
    {
        Interlocked.Increment(ref _importUpdatesReceived);
        Interlocked.Increment(ref _importUpdatesIgnored);
    }

    /// <summary>
    /// Export outcomes an update group gathered over one pass (refused by the session rules, a
    /// member's own routes included, filtered, withdrawals offered), added at once: per route and
    /// member they were an interlocked add each, routes × members of them in a full mesh.
    /// </summary>
    public void AddExportOutcomes(long rejected, long filtered, long withdrawsReceived)
    {
        if (rejected != 0)
            Interlocked.Add(ref _exportUpdatesRejected, rejected);
        if (filtered != 0)
            Interlocked.Add(ref _exportUpdatesFiltered, filtered);
        if (withdrawsReceived != 0)
            Interlocked.Add(ref _exportWithdrawsReceived, withdrawsReceived);
    }

    private static void AddIfMoved(ref long counter, long delta)
    {
        if (delta != 0)
            Interlocked.Add(ref counter, delta);
    }

    /// <summary>Adds a batch's counts (one interlocked add per counter that moved) and clears the tally.</summary>
    public void Add(ref ImportTally tally)
    {
        AddIfMoved(ref _imported, tally.Imported);
        AddIfMoved(ref _importUpdatesReceived, tally.UpdatesAccepted + tally.UpdatesFiltered + tally.UpdatesIgnored + tally.UpdatesRejected);
        AddIfMoved(ref _importUpdatesAccepted, tally.UpdatesAccepted);
        AddIfMoved(ref _importUpdatesFiltered, tally.UpdatesFiltered);
        AddIfMoved(ref _importUpdatesIgnored, tally.UpdatesIgnored);
        AddIfMoved(ref _importUpdatesRejected, tally.UpdatesRejected);
        AddIfMoved(ref _importWithdrawsReceived, tally.WithdrawsReceived);
        AddIfMoved(ref _importWithdrawsAccepted, tally.WithdrawsAccepted);
        tally = default;
    }

    /// <summary>
    /// Import outcomes a protocol gathered over one pass of its own (a static protocol's sync, a
    /// kernel scan's learned routes), added at once: one interlocked add per counter and pass instead
    /// of one or two per route. <paramref name="importedDelta"/> moves the current-route gauge;
    /// updates and withdrawals accepted count as received and accepted.
    /// </summary>
    public void AddImportOutcomes(long importedDelta, long updatesAccepted, long withdrawsAccepted)
    {
        if (importedDelta != 0)
            Interlocked.Add(ref _imported, importedDelta);
        if (updatesAccepted != 0)
        {
            Interlocked.Add(ref _importUpdatesReceived, updatesAccepted);
            Interlocked.Add(ref _importUpdatesAccepted, updatesAccepted);
        }
        if (withdrawsAccepted != 0)
        {
            Interlocked.Add(ref _importWithdrawsReceived, withdrawsAccepted);
            Interlocked.Add(ref _importWithdrawsAccepted, withdrawsAccepted);
        }
    }

    /// <summary>
    /// Export changes a protocol planned over one batch (the kernel protocol's journal batch, resync
    /// or scan), added at once: updates sent, withdrawals offered, withdrawals sent. Per route they
    /// were one or two interlocked operations each, 100,000 of them for a full table.
    /// </summary>
    public void AddExportChanges(long updatesSent, long withdrawsReceived, long withdrawsSent)
    {
        if (updatesSent != 0)
            Interlocked.Add(ref _exportUpdatesSent, updatesSent);
        if (withdrawsReceived != 0)
            Interlocked.Add(ref _exportWithdrawsReceived, withdrawsReceived);
        if (withdrawsSent != 0)
            Interlocked.Add(ref _exportWithdrawsSent, withdrawsSent);
    }

    public void CountExportWithdrawReceived() => Interlocked.Increment(ref _exportWithdrawsReceived);
    public void CountExportUpdate(bool sent) => Interlocked.Increment(ref sent ? ref _exportUpdatesSent : ref _exportUpdatesFiltered);
    public void CountExportWithdraw() => Interlocked.Increment(ref _exportWithdrawsSent);

    /// <summary>Clears the current-route gauges when a protocol goes down (the totals stay).</summary>
    public void ResetRouteCounts()
    {
        Interlocked.Exchange(ref _imported, 0);
        Interlocked.Exchange(ref _filtered, 0);
        Interlocked.Exchange(ref _exported, 0);
    }
}
