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
/// seqlock: the writer clears the entry, writes the prefix's number and the slot's tag (the version's
/// low 31 bits and whether the change is a removal), then writes the entry (volatile writes are
/// releases); a reader reads entry, number, tag, entry again (volatile reads are acquires) and keeps
/// the slot only when both entry reads are the same object and the tag is the version it expects.
/// Entries are fresh objects per change, so the same object in both reads means no write came
/// between; a removal in bulk records the prefix's last entry instead of a new empty one (see
/// <see cref="AppendRemoval"/>), which puts one object in two slots at most (its own change and its
/// removal, of the same prefix and number), and the tag tells those apart. The tag needs no call on
/// the entry (its version is a virtual read). A slot is 16 bytes: the ring is 16 MiB at its full
/// million changes.
/// <para>
/// The ring starts at <see cref="InitialLength"/> slots and doubles, up to <see cref="Capacity"/>,
/// whenever a reader falls half its length behind: a table that changes a few routes at a time (a
/// route reflector, a Calico node) keeps 16 KiB instead of the 1 MiB a full-table feed needs. The
/// writer looks every quarter ring, and a reader's lag grows by one per change, so no reader is
/// ever more than three quarters of the length behind, and no slot a reader still wants is
/// overwritten before the ring is at its full capacity. A growth copies the live slots into a new
/// array and publishes it before the next change; the old array is never written again, so a
/// reader still holding it reads the same entries there.
/// </para>
/// </remarks>
internal sealed class ChangeJournal
{
    private Slot[] _slots;
    private readonly int _capacity;
    private readonly Func<long> _oldestWanted;
    private TaskCompletionSource? _waiter;
    private long _head;
    // The table's writer is in a batch: appends leave the waiter for WakeDeferred. Writer only.
    private bool _deferWakes;

    private struct Slot
    {
        public RouteEntry? Entry;
        public int Number;
        // TagOf the change's version and whether it removed the prefix.
        public uint Tag;
    }

    private const uint RemovalBit = 0x8000_0000u;

    /// <summary>A slot's tag: the version's low 31 bits (a reader is never 2^31 changes behind: its capacity is far less) and the removal mark.</summary>
    private static uint TagOf(long version, bool removal) => ((uint)version & ~RemovalBit) | (removal ? RemovalBit : 0);

    /// <param name="capacity">How far behind a reader may fall (rounded up to a power of two): the ring's final length.</param>
    /// <param name="head">The version of the last change written.</param>
    /// <param name="oldestWanted">The oldest version some reader has yet to read (<see cref="long.MaxValue"/> when none waits for one).</param>
    public ChangeJournal(int capacity, long head, Func<long> oldestWanted)
    {
        _capacity = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Clamp(capacity, MinCapacity, MaxCapacity));
        _slots = new Slot[Math.Min(_capacity, InitialLength)];
        _oldestWanted = oldestWanted;
        _head = head;
    }

    /// <summary>Below this a ring would overflow on the first busy moment of any table.</summary>
    public const int MinCapacity = 16;

    /// <summary>A ring of 16 MiB; a reader further behind than this is cheaper to resync than to replay.</summary>
    public const int MaxCapacity = 1 << 20;

    /// <summary>The ring's first length: 16 KiB of slots.</summary>
    public const int InitialLength = 1 << 10;

    /// <summary>How far behind a reader may fall before its changes are overwritten: the ring's length once grown.</summary>
    public int Capacity => _capacity;

    /// <summary>The ring's length now (grows towards <see cref="Capacity"/>).</summary>
    public int Length => Volatile.Read(ref _slots).Length;

    /// <summary>The version of the last change written (0 before any).</summary>
    public long Head => Volatile.Read(ref _head);

    /// <summary>
    /// Appends the change <paramref name="version"/> (the entry's own: the entry keeps only its low
    /// bits) of the prefix numbered <paramref name="number"/> in the table's map; called by the table's
    /// writer only, with consecutive versions.
    /// </summary>
    public void Append(RouteEntry entry, int number, long version) => Write(entry, number, version, TagOf(version, entry is EmptyRouteEntry));

    /// <summary>
    /// Appends the removal, at <paramref name="version"/>, of the prefix whose last entry was
    /// <paramref name="last"/>: a removal in bulk records no object of its own (a withdrawn
    /// million-route table made a million 48-byte empty entries, and the collections they set off were
    /// most of the 25 MiB its withdrawal put on the daemon's peak; bench/RESULTS-perf.md, fifteenth
    /// round). Readers get it as a
    /// <see cref="TableChange"/> whose <see cref="TableChange.IsRemoval"/> is set. Writer only.
    /// </summary>
    public void AppendRemoval(RouteEntry last, int number, long version) => Write(last, number, version, TagOf(version, removal: true));

    private void Write(RouteEntry entry, int number, long version, uint tag)
    {
        var slots = _slots;
        var quarter = slots.Length / 4 - 1;
        if ((version & quarter) == 0 && slots.Length < _capacity)
            slots = GrowIfBehind(version, slots);
        ref var slot = ref slots[(int)(version & (slots.Length - 1))];
        Volatile.Write(ref slot.Entry, null);
        Volatile.Write(ref slot.Number, number);
        Volatile.Write(ref slot.Tag, tag);
        Volatile.Write(ref slot.Entry, entry);
        Volatile.Write(ref _head, version);
        if (!_deferWakes)
            Wake();
    }

    /// <summary>
    /// A full fence after the head store (Interlocked), paired with the one in WaitTask: either the
    /// waiter sees the new head, or this sees the waiter and wakes it.
    /// </summary>
    private void Wake()
    {
        Wakes++;
        Interlocked.Exchange(ref _waiter, null)?.TrySetResult();
    }

    /// <summary>How many times the writer woke the readers (tests: one per change, or per batch). Writer only.</summary>
    internal long Wakes { get; private set; }

    /// <summary>From now until <see cref="WakeDeferred"/>, appends do not wake the readers (the table's batch). Writer only.</summary>
    public void DeferWakes() => _deferWakes = true;

    /// <summary>Ends <see cref="DeferWakes"/>: wakes the readers once for every change appended since. Writer only.</summary>
    public void WakeDeferred()
    {
        _deferWakes = false;
        Wake();
    }

    /// <summary>
    /// Doubles the ring (more than once if need be) while the oldest change a reader still wants is
    /// more than half its length behind <paramref name="version"/>, the change about to be written.
    /// </summary>
    private Slot[] GrowIfBehind(long version, Slot[] slots)
    {
        var oldest = _oldestWanted();
        var lag = version - oldest;
        if (oldest == long.MaxValue || lag <= slots.Length / 2)
            return slots;
        var length = slots.Length;
        while (length < _capacity && lag > length / 2)
            length *= 2;
        var grown = new Slot[length];
        // Every change still in the ring, into its place in the new one.
        for (var v = Math.Max(1, version - slots.Length); v < version; v++)
            grown[(int)(v & (length - 1))] = slots[(int)(v & (slots.Length - 1))];
        Volatile.Write(ref _slots, grown);
        return grown;
    }

    /// <summary>Reads the change with <paramref name="version"/>; false when it was overwritten (the reader fell behind).</summary>
    public bool TryGet(long version, out TableChange change)
    {
        // After the head (the caller read it first): a ring that grew before the change was written is seen.
        var slots = Volatile.Read(ref _slots);
        ref var slot = ref slots[(int)(version & (slots.Length - 1))];
        var first = Volatile.Read(ref slot.Entry);
        var number = Volatile.Read(ref slot.Number);
        var tag = Volatile.Read(ref slot.Tag);
        var again = Volatile.Read(ref slot.Entry);
        if (first is null || !ReferenceEquals(first, again) || (tag & ~RemovalBit) != ((uint)version & ~RemovalBit))
        {
            change = default;
            return false;
        }
        change = new TableChange(first, number, version, (tag & RemovalBit) != 0);
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
