using System.Runtime.CompilerServices;

namespace Calico.Bgp.Rib;

/// <summary>
/// One consumer's cursor into a table's change journal (<see cref="RoutingTable.SubscribeJournal"/>).
/// The consumer reads changes in version order with <see cref="TryRead"/>; when it is more than
/// <see cref="Capacity"/> changes behind, it is switched to a full resync (<see cref="NeedsResync"/>):
/// the writer never waits for it and nothing queues up for it. A new reader starts with a resync,
/// which is its initial feed (BIRD's). One consumer per reader: its methods are not for concurrent use.
/// </summary>
public sealed class JournalReader : IDisposable
{
    private readonly RoutingTable _table;
    private readonly ChangeJournal _journal;
    private long _next;
    private long _overflows;
    private volatile bool _needsResync = true;
    private bool _overflowed;
    private bool _disposed;
    // The token the waits are woken by, and its registration (WakeOnCancel).
    private CancellationToken _wakeToken;
    private CancellationTokenRegistration _wakeRegistration;

    internal JournalReader(RoutingTable table, ChangeJournal journal, string consumer, int capacity, long next)
    {
        _table = table;
        _journal = journal;
        Consumer = consumer;
        Capacity = Math.Clamp(capacity, 1, journal.Capacity);
        _next = next;
    }

    public string Consumer { get; }
    public RoutingTable Table => _table;

    /// <summary>How far behind the reader may fall before it is switched to a resync (at most the ring's length).</summary>
    public int Capacity { get; }

    /// <summary>Version of the next change this reader will read.</summary>
    public long Position => Volatile.Read(ref _next);

    /// <summary>Changes written and not read yet (0 while a resync is due: the resync covers them).</summary>
    public long Lag => _needsResync ? 0 : Math.Max(0, _journal.Head - Position + 1);

    /// <summary>True from a fall behind the capacity until the next <see cref="Resync"/>.</summary>
    public bool Overflowed => _overflowed;

    /// <summary>How many times this reader fell behind and was switched to a resync.</summary>
    public long OverflowCount => Interlocked.Read(ref _overflows);

    /// <summary>
    /// The consumer must call <see cref="Resync"/> before reading on: at the start (initial feed) and
    /// after an overflow.
    /// </summary>
    public bool NeedsResync => _needsResync;

    /// <summary>
    /// Completes when a change can be read, or a resync is due and the table is in no bulk change
    /// (<see cref="RoutingTable.BulkChangeDone"/>).
    /// </summary>
    /// <remarks>
    /// <para>A reader falls behind in a bulk change most of all (a peer's million routes withdrawn at once:
    /// the table's writer outruns the export on one core). Resynced halfway, it copies the table still
    /// being withdrawn and then reads the rest of the withdrawal as changes; at the change's end it copies
    /// only what is left. A million-route withdrawal took twice as long with a resync halfway, and its
    /// copy put 15 MiB on the peak (bench/RESULTS-perf.md, fifteenth round).</para>
    /// <para>Waiting allocates nothing: the state machine is pooled, and the token wakes the wait through
    /// one registration per reader (it wakes every reader; the others wait again) instead of a
    /// cancellable wrapper of the shared task per wait. Every change a reflector passes on is a wait of
    /// each update group's reader: one in twenty bytes P4's daemon allocated (bench/RESULTS-perf.md,
    /// nineteenth round).</para>
    /// </remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        WakeOnCancel(cancellationToken);
        while (true)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            // The shared task first, the token after: a cancellation from here on completes this task.
            var wake = _journal.WaitTask();
            cancellationToken.ThrowIfCancellationRequested();
            if (_needsResync)
            {
                var bulk = _table.BulkChangeDone;
                if (bulk.IsCompleted)
                    return;
                await bulk.WaitAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (_journal.Head >= _next)
                return;
            await wake.ConfigureAwait(false);
        }
    }

    /// <summary>Registers <paramref name="token"/> to wake the journal's waiters, once per token the reader waits with.</summary>
    private void WakeOnCancel(CancellationToken token)
    {
        if (!token.CanBeCanceled || token == _wakeToken)
            return;
        _wakeRegistration.Dispose();
        _wakeToken = token;
        _wakeRegistration = token.UnsafeRegister(static j => ((ChangeJournal)j!).WakeAll(), _journal);
    }

    /// <summary>
    /// Copies the next changes, oldest first, into <paramref name="into"/>; returns how many. Returns 0
    /// when there is nothing new or a resync is due; stops early when the reader finds it fell behind
    /// (the changes returned until then are valid and should be applied before the resync).
    /// </summary>
    public int TryRead(Span<TableChange> into)
    {
        if (_needsResync)
            return 0;
        var head = _journal.Head;
        var n = 0;
        while (n < into.Length && _next <= head)
        {
            // Beyond its own capacity a reader resyncs even if the ring still holds the change, so
            // every reader has the same bound whatever the ring's size.
            if (head - _next >= Capacity || !_journal.TryGet(_next, out into[n]))
            {
                Overflow();
                return n;
            }
            n++;
            Volatile.Write(ref _next, _next + 1);
        }
        if (n > 0)
            _table.PokeCork();
        return n;
    }

    /// <summary>
    /// Starts over from the table as it is: fills <paramref name="into"/> (cleared first) with every
    /// entry now in the table and moves the cursor so that the changes made from the moment of the call
    /// on are read next. Prefixes the consumer has that are not in the list are gone. Changes read after
    /// a resync may repeat a state the list already had (an entry's <see cref="RouteEntry.Version"/>
    /// tells, modulo 2^31); applying them in order still ends in the table's state.
    /// </summary>
    public void Resync(List<RouteEntry> into)
    {
        into.Clear();
        BeginResync();
        foreach (var entry in _table.Entries)
            into.Add(entry);
        _table.PokeCork();
    }

    /// <summary>As <see cref="Resync(List{RouteEntry})"/>, with each entry's prefix number (<see cref="TableChange.Number"/>) at the same position in <paramref name="numbers"/>.</summary>
    public void Resync(List<RouteEntry> into, List<int> numbers)
    {
        into.Clear();
        numbers.Clear();
        BeginResync();
        _table.CopyEntriesTo(into, numbers);
        _table.PokeCork();
    }

    private void BeginResync()
    {
        // Cursor first, snapshot after: every change the snapshot might miss is at or after the cursor.
        Volatile.Write(ref _next, _journal.Head + 1);
        _needsResync = false;
        _overflowed = false;
    }

    private void Overflow()
    {
        _needsResync = true;
        _overflowed = true;
        Interlocked.Increment(ref _overflows);
        // A reader due for a resync has no lag: the importer may go on.
        _table.PokeCork();
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _wakeRegistration.Dispose();
        _table.Unsubscribe(this);
        _journal.WakeAll();
    }
}
