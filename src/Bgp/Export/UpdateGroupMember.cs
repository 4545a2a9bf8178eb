using System.Runtime.CompilerServices;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Speaker.Export;

/// <summary>
/// One peer in an <see cref="UpdateGroup"/>: a bounded queue of the group's encoded UPDATEs that
/// the peer's writer drains at its own pace. Above the group's limit the member stops queueing and
/// remembers which paths changed instead (bounded by the table's size, never by the churn); once its
/// queue is empty those paths are encoded again from the group's current table (the resync).
/// </summary>
public sealed class UpdateGroupMember
{
    private readonly Queue<ReadOnlyMemory<byte>> _queue = new();
    private readonly WakeSignal _signal = new();
    private readonly Lock _lock = new();
    private int _pendingBytes;
    private UpdateGroupMember? _successor;

    internal UpdateGroupMember(UpdateGroup group, BgpProtocol protocol)
    {
        Group = group;
        Protocol = protocol;
    }

    public UpdateGroup Group { get; }
    public BgpProtocol Protocol { get; }

    /// <summary>Needs every path of the group (joined, route refresh); queued changes are then redundant.</summary>
    internal bool NeedsFull { get; set; } = true;
    /// <summary>Waiting for the group's first pass over the table before End-of-RIB.</summary>
    internal bool PendingEndOfRib { get; set; }
    /// <summary>The initial feed was generated (End-of-RIB follows it once, RFC 4724 §2).</summary>
    internal bool SentEndOfRib { get; set; }
    internal bool EndOfRibQueued { get; set; }
    /// <summary>The exported-route count last added to the protocol's statistics.</summary>
    internal long ReportedExported { get; set; }

    /// <summary>Routes of this member's own refused to it in the group's pass so far (its split horizon), added to its stats when the pass ends. Under the group's lock.</summary>
    internal long PassSelfRejected { get; set; }
    /// <summary>Paths changed while the member was over its limit (null: not behind).</summary>
    internal HashSet<Nlri>? Dirty { get; set; }

    /// <summary>
    /// Set when the peer's export filter changed and it moved to another group (a reload): the
    /// writer sends what is still queued here, then continues with the successor. Under the group lock.
    /// </summary>
    internal UpdateGroupMember? Successor
    {
        get => Volatile.Read(ref _successor);
        set => Volatile.Write(ref _successor, value);
    }

    /// <summary>
    /// Paths the peer may hold from the group it came from; the first full feed withdraws those the
    /// new group does not have (announced ones replace themselves). Under the group lock.
    /// </summary>
    internal HashSet<Nlri>? Inherited { get; set; }

    /// <summary>Times this member fell behind and was switched to resync.</summary>
    public int Overflows { get; private set; }

    internal bool IsBehind => NeedsFull || Dirty is not null;

    /// <summary>Slices of the group's shared bytes queued so far (the tests count them per pass).</summary>
    internal long SharedQueued { get; private set; }

    /// <summary>
    /// Queues shared bytes; false when the member is over <paramref name="limit"/> or already behind,
    /// and the caller records the slice's paths with <see cref="AddDirty"/> for a resync instead. Called
    /// under the group lock.
    /// </summary>
    /// <remarks>
    /// Two calls rather than one that takes the paths as a sequence: built per member and slice, that
    /// sequence was a third of what a reflector allocated under churn, for the rare member over its limit.
    /// </remarks>
    internal bool TryEnqueue(ReadOnlyMemory<byte> bytes, int limit)
    {
        if (NeedsFull)
            return true;
        if (Dirty is not null)
            return false;
        lock (_lock)
        {
            if (!(_pendingBytes + bytes.Length > limit && _pendingBytes > 0))
            {
                SharedQueued++;
                PassBuffer.Retain(bytes);
                _queue.Enqueue(bytes);
                _pendingBytes += bytes.Length;
                Signal();
                return true;
            }
        }
        Dirty = [];
        Overflows++;
        return false;
    }

    /// <summary>Records paths a refused slice (<see cref="TryEnqueue"/>) carried, for the resync. Under the group lock.</summary>
    internal void AddDirty(List<Nlri> paths)
    {
        var dirty = Dirty ?? throw new InvalidOperationException("the member is not behind");
        foreach (var n in paths)
            dirty.Add(n);
    }

    /// <summary>Queues bytes for this member alone (resync output, End-of-RIB), ignoring the limit. Under the group lock.</summary>
    internal void EnqueueAlways(ReadOnlyMemory<byte> bytes)
    {
        lock (_lock)
        {
            _queue.Enqueue(bytes);
            _pendingBytes += bytes.Length;
        }
        Signal();
    }

    internal void Signal() => _signal.Set();

    /// <summary>
    /// The most chunks a member's queue, or its writer's batch, keeps room for once emptied: a
    /// backlog (a mass teardown sends every member a withdrawal per path) grew them to its size for
    /// good, ~1–3 MB over a thousand reflector clients (bench/RESULTS-perf.md, nineteenth round).
    /// Steady churn's batches fit in it, so they are never trimmed.
    /// </summary>
    internal const int KeptCapacity = 256;

    /// <summary>
    /// Empties a writer's batch once sent: its slices' pass buffers are given back (<see cref="PassBuffer"/>;
    /// call once per batch sent, never for bytes still to be read), and the room a backlog made
    /// (see <see cref="KeptCapacity"/>).
    /// </summary>
    internal static void Recycle(List<ReadOnlyMemory<byte>> batch)
    {
        foreach (var chunk in batch)
            PassBuffer.Release(chunk);
        batch.Clear();
        if (batch.Capacity > KeptCapacity)
            batch.Capacity = KeptCapacity;
    }

    /// <summary>Room the queue keeps now (tests).</summary>
    internal int QueueCapacity
    {
        get
        {
            lock (_lock)
                return _queue.EnsureCapacity(0);
        }
    }

    /// <summary>
    /// Waits for bytes to send and moves them all to <paramref name="into"/>. A member that is behind
    /// and has sent everything queued gets its resync encoded here, so the writer's pace decides it.
    /// Draining takes only the member's own lock: with hundreds of members, writers contending for
    /// the group's lock while it encodes blocked pool threads, and the pool kept adding threads.
    /// </summary>
    /// <remarks>
    /// Runs once per wake-up of every session's writer, so it allocates nothing then: its state
    /// machine is pooled, and the wait on the signal (<see cref="WakeSignal"/>) takes no token, the
    /// token waking the wait through one registration per writer instead. Together they were a third of what
    /// P4's daemon allocated (bench/RESULTS-perf.md, seventh round).
    /// </remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask TakeAsync(List<ReadOnlyMemory<byte>> into, CancellationToken cancellationToken)
    {
        while (true)
        {
            bool empty;
            lock (_lock)
            {
                while (_queue.TryDequeue(out var chunk))
                {
                    into.Add(chunk);
                    _pendingBytes -= chunk.Length;
                }
                // Empty now: a backlog's array goes back.
                if (_queue.EnsureCapacity(0) > KeptCapacity)
                    _queue.TrimExcess(KeptCapacity);
                empty = into.Count == 0;
            }
            if (!empty || Volatile.Read(ref _successor) is not null)
                return;
            // Behind is set and cleared under the group lock: a stale read here only costs a look.
            if (IsBehind)
            {
                lock (Group.Sync)
                {
                    // A retired member only drains; its successor's full feed covers whatever it missed.
                    if (IsBehind && Successor is null && IsQueueEmpty())
                        Group.Resync(this);
                }
                if (Successor is null)
                    continue;
            }
            else
            {
                WakeOnCancel(cancellationToken);
                await _signal.WaitAsync().ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
    }

    // The writer's token, and the registration that signals this member when it is cancelled.
    private CancellationToken _wakeToken;
    private CancellationTokenRegistration _wakeRegistration;

    private void WakeOnCancel(CancellationToken cancellationToken)
    {
        if (_wakeToken == cancellationToken)
            return;
        _wakeRegistration.Dispose();
        _wakeToken = cancellationToken;
        _wakeRegistration = cancellationToken.UnsafeRegister(static m => ((UpdateGroupMember)m!).Signal(), this);
    }

    private bool IsQueueEmpty()
    {
        lock (_lock)
            return _queue.Count == 0;
    }

    /// <summary>Route refresh (RFC 2918 §4) or <c>reload out</c>: send every path again.</summary>
    public void RequestFull()
    {
        lock (Group.Sync)
        {
            NeedsFull = true;
            Dirty = null;
        }
        Signal();
    }
}
