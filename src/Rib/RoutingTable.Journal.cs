using System.Collections.Immutable;

namespace Calico.Bgp.Rib;

public sealed partial class RoutingTable
{
    /// <summary>Ring length used when the first journal reader asks for less (one busy second of a full-table feed).</summary>
    public const int DefaultJournalCapacity = 1 << 16;

    private ChangeJournal? _journal;
    private ImmutableArray<JournalReader> _journalReaders = [];
    private TaskCompletionSource? _uncorked;

    /// <summary>The journal readers now subscribed (for metrics: <see cref="JournalReader.Lag"/> is the export lag).</summary>
    public ImmutableArray<JournalReader> JournalReaders => _journalReaders;

    /// <summary>
    /// Length of the journal's ring, fixed by the first <see cref="SubscribeJournal"/> while any reader
    /// is subscribed (0 when none is): a later reader asking for more capacity gets this much.
    /// </summary>
    public int JournalCapacity => _journal?.Capacity ?? 0;

    /// <summary>The journal ring's length now: it starts small and grows towards <see cref="JournalCapacity"/> as readers fall behind.</summary>
    internal int JournalLength => _journal?.Length ?? 0;

    /// <summary>
    /// Back-pressure ("cork", BIRD 3): true while some journal reader is more than three quarters of
    /// its capacity behind. Importers may pause reading from peers while it holds; nothing else waits
    /// on it, and a reader that falls further behind resyncs instead of holding the writer.
    /// </summary>
    public bool IsCorked => AnyReaderPast(static r => r.Capacity - r.Capacity / 4);

    /// <summary>
    /// How far a journal reader may fall behind before importers let it run (<see cref="ReadersBehind"/>):
    /// about two UPDATEs of a full-table feed (a thousand /24s each).
    /// </summary>
    public const int YieldLag = 2048;

    /// <summary>
    /// True while some journal reader is more than <see cref="YieldLag"/> changes (or a quarter of its
    /// capacity, if less) behind: an importer that has written that many changes since it last asked
    /// then lets other work run before it reads on, so a reader that is ready keeps up. Unlike the cork
    /// (<see cref="IsCorked"/>) nobody waits on it: a reader that cannot run (its peer's socket is full)
    /// holds no importer up before the cork's mark.
    /// </summary>
    /// <remarks>
    /// A daemon on one core imported a full table up to the cork (three quarters of the ring, 49,152
    /// changes) before its exporters ran: the ring grew to its whole megabyte (2 MB allocated on the way)
    /// and a pass's UPDATE bytes to match, 2.5–3.3 MiB of a full table's peak (bench/RESULTS-perf.md,
    /// twenty-sixth round).
    /// </remarks>
    public bool ReadersBehind => AnyReaderPast(static r => Math.Min(YieldLag, r.Capacity / 4));

    /// <summary>Whether some reader is more changes behind than its <paramref name="mark"/>.</summary>
    private bool AnyReaderPast(Func<JournalReader, int> mark)
    {
        foreach (var r in _journalReaders)
        {
            if (r.Lag > mark(r))
                return true;
        }
        return false;
    }

    /// <summary>
    /// Completes when the table is no longer corked (at once when it is not). Readers poke it as they
    /// catch up, so an importer that waits here resumes as soon as the slowest reader is back under the
    /// mark, without polling.
    /// </summary>
    public Task WaitUncorkedAsync()
    {
        while (true)
        {
            if (!IsCorked)
                return Task.CompletedTask;
            var current = Volatile.Read(ref _uncorked);
            if (current is null)
            {
                var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                if (Interlocked.CompareExchange(ref _uncorked, created, null) is not null)
                    continue;
                current = created;
            }
            // Checked again after publishing the waiter: a reader that caught up in between either saw
            // the waiter (and completes it) or is seen here.
            if (!IsCorked)
            {
                Interlocked.CompareExchange(ref _uncorked, null, current)?.TrySetResult();
                return Task.CompletedTask;
            }
            return current.Task;
        }
    }

    // Set while a bulk change runs (BeginBulkChange); completed and cleared at its end.
    private TaskCompletionSource? _bulkChange;

    /// <summary>
    /// Completes when no bulk change runs (<see cref="WithdrawAll"/>, <see cref="WithdrawStale"/>,
    /// <see cref="MarkStale"/>: a protocol's routes changed at once); completed when none does. A journal
    /// reader due for a resync waits for it (<see cref="JournalReader.WaitAsync"/>).
    /// </summary>
    public Task BulkChangeDone => Volatile.Read(ref _bulkChange)?.Task ?? Task.CompletedTask;

    /// <summary>Marks a bulk change until the scope is disposed (nested scopes are the outer one's). Under the writer.</summary>
    internal BulkChange BeginBulkChange()
    {
        if (_bulkChange is not null)
            return default;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _bulkChange, done);
        return new BulkChange(this, done);
    }

    /// <summary>The scope of <see cref="BeginBulkChange"/>.</summary>
    internal readonly struct BulkChange(RoutingTable? table, TaskCompletionSource? done) : IDisposable
    {
        public void Dispose()
        {
            if (table is null)
                return;
            Volatile.Write(ref table._bulkChange, null);
            done!.TrySetResult();
        }
    }

    /// <summary>Called by readers after they advance or leave: wakes a waiting importer once the cork is off.</summary>
    internal void PokeCork()
    {
        if (Volatile.Read(ref _uncorked) is { } waiter && !IsCorked)
            Interlocked.CompareExchange(ref _uncorked, null, waiter)?.TrySetResult();
    }

    /// <summary>
    /// Registers a consumer of the change journal. The reader starts with a resync (its initial feed:
    /// <see cref="JournalReader.Resync"/> lists the table), then reads every change in order; when it
    /// falls more than <paramref name="capacity"/> changes behind it resyncs again instead of holding
    /// the writer. The first call allocates the ring with room for max(<paramref name="capacity"/>,
    /// <see cref="DefaultJournalCapacity"/>) changes, at most 2^20.
    /// </summary>
    public JournalReader SubscribeJournal(string consumer, int capacity = DefaultJournalCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        lock (_writer)
        {
            _journal ??= new ChangeJournal(Math.Max(capacity, DefaultJournalCapacity), Version, OldestWantedChange);
            var reader = new JournalReader(this, _journal, consumer, capacity, Version + 1);
            _journalReaders = _journalReaders.Add(reader);
            return reader;
        }
    }

    /// <summary>The oldest change a reader has yet to read; a reader due for a resync wants none. Asked by the writer once per quarter ring.</summary>
    private long OldestWantedChange()
    {
        var oldest = long.MaxValue;
        foreach (var r in _journalReaders)
        {
            if (!r.NeedsResync)
                oldest = Math.Min(oldest, r.Position);
        }
        return oldest;
    }

    internal void Unsubscribe(JournalReader reader)
    {
        lock (_writer)
        {
            _journalReaders = _journalReaders.Remove(reader);
            // With no reader left the ring goes, so removals stop costing an entry each; the next
            // reader starts a new ring at the current version.
            if (_journalReaders.IsEmpty)
                _journal = null;
        }
        PokeCork();
    }
}
