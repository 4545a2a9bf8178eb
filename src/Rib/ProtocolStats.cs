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
