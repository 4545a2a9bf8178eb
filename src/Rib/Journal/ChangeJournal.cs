using System.Numerics;

namespace Calico.Bgp.Rib;

/// <summary>
/// The table's change journal (BIRD 3's idea): a bounded ring of <see cref="TableChange"/>s written by
/// the table's single writer and read by any number of <see cref="JournalReader"/>s, each with its own
/// cursor. The writer never waits for a reader and the ring never grows: a reader that falls a ring's
/// length behind finds its slot overwritten and switches to a full resync.
/// </summary>
/// <remarks>
/// A change's position is its table version, so slot = version mod capacity. A slot is a small
/// seqlock: the writer clears the entry, writes the old best, then writes the new entry (volatile
/// writes are releases); a reader reads entry, old best, entry again (volatile reads are acquires) and
/// keeps the slot only when both entry reads are the same object with the version it expects. Entries
/// are fresh objects per change, so the same object in both reads means no write came between.
/// </remarks>
internal sealed class ChangeJournal
{
    private readonly Slot[] _slots;
    private readonly int _mask;
    private TaskCompletionSource? _waiter;
    private long _head;

    private struct Slot
    {
        public RouteEntry? Entry;
        public Route? OldBest;
    }

    public ChangeJournal(int capacity, long head)
    {
        var size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Clamp(capacity, MinCapacity, MaxCapacity));
        _slots = new Slot[size];
        _mask = size - 1;
        _head = head;
    }

    /// <summary>Below this a ring would overflow on the first busy moment of any table.</summary>
    public const int MinCapacity = 16;

    /// <summary>A ring of 16 MiB; a reader further behind than this is cheaper to resync than to replay.</summary>
    public const int MaxCapacity = 1 << 20;

    public int Capacity => _slots.Length;

    /// <summary>The version of the last change written (0 before any).</summary>
    public long Head => Volatile.Read(ref _head);

    /// <summary>Appends a change; called by the table's writer only, with consecutive versions.</summary>
    public void Append(RouteEntry entry, Route? oldBest)
    {
        ref var slot = ref _slots[(int)(entry.Version & _mask)];
        Volatile.Write(ref slot.Entry, null);
        Volatile.Write(ref slot.OldBest, oldBest);
        Volatile.Write(ref slot.Entry, entry);
        Volatile.Write(ref _head, entry.Version);
        // A full fence after the head store (Interlocked), paired with the one in WaitTask: either the
        // waiter sees the new head, or this sees the waiter and wakes it.
        Interlocked.Exchange(ref _waiter, null)?.TrySetResult();
    }

    /// <summary>Reads the change with <paramref name="version"/>; false when it was overwritten (the reader fell behind).</summary>
    public bool TryGet(long version, out TableChange change)
    {
        ref var slot = ref _slots[(int)(version & _mask)];
        var first = Volatile.Read(ref slot.Entry);
        var oldBest = Volatile.Read(ref slot.OldBest);
        var again = Volatile.Read(ref slot.Entry);
        if (first is null || !ReferenceEquals(first, again) || first.Version != version)
        {
            change = default;
            return false;
        }
        change = new TableChange(first, oldBest);
        return true;
    }

    /// <summary>
    /// A task that completes at the next append. One task is shared by every waiting reader, so the
    /// writer wakes a thousand readers with one completion, and only when someone waits.
    /// </summary>
    public Task WaitTask()
    {
        while (true)
        {
            var current = Volatile.Read(ref _waiter);
            if (current is not null)
                return current.Task;
            var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (Interlocked.CompareExchange(ref _waiter, created, null) is null)
                return created.Task;
        }
    }

    /// <summary>Wakes every waiting reader without a change (a reader asked for resync, or is leaving).</summary>
    public void WakeAll() => Interlocked.Exchange(ref _waiter, null)?.TrySetResult();
}
