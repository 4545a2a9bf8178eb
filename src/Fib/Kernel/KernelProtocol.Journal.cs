using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Fib.Kernel;

/// <summary>
/// Reading the table's change journal: batches from this protocol's cursor, coalesced per prefix, and
/// a full resync from the table when the cursor fell behind (the journal's ENOBUFS).
/// </summary>
public sealed partial class KernelProtocol
{
    /// <summary>Changes read per batch: enough to fill several sendmsg calls, small enough to stay in cache.</summary>
    private const int JournalBatch = 4096;

    /// <summary>
    /// A batch of fewer changes is held per prefix (the export settle); more is a bulk stream (a table
    /// being loaded, a session's whole table), planned at once as a backlog is. A burst of ECMP paths
    /// or of a mesh's blocks (P3: 400 prefixes from 200 sessions) reads as far fewer per settle step.
    /// In P5's feed (100,000 routes at ~300 per millisecond) holding every prefix meant a timer
    /// wake-up per ~1,000 routes, and the fed install ran slower on a loaded machine (noisy runs).
    /// </summary>
    private const int HoldBatch = 1024;

    // Owned by the loop; reused from batch to batch so reading allocates nothing per change.
    private readonly TableChange[] _batch = new TableChange[JournalBatch];
    private readonly List<RouteEntry> _resyncEntries = [];
    private List<RouteChange> _changes = [];
    // The scan's prefixes to plan again and its retries, reused from scan to scan.
    private readonly List<Prefix> _scanPlan = [];
    private readonly HashSet<Prefix> _scanRetries = [];

    /// <summary>
    /// Reads one batch of changes and starts writing what they change in the kernel. Each change
    /// carries the whole entry of its prefix, so only the last change of a prefix in the batch
    /// matters: the paths of an ECMP prefix announced one after another are written once, with every
    /// next hop. In a batch that is not full (no backlog) a change to a prefix already in the kernel is
    /// held per prefix (<see cref="Hold"/>) instead of planned: each such prefix is planned once it has
    /// been still for <see cref="KernelProtocolOptions.ExportSettleMin"/>, so the paths of one prefix
    /// that arrive together are written in one more write, while prefixes that came earlier in a burst
    /// are written as the burst goes on, not after it. A new prefix with one path is written at once
    /// (<see cref="IsNewLonePath"/>). The batch is written on the thread pool while the next one is read and
    /// planned (the kernel's work, done inside sendmsg, then overlaps ours, as the resync's chunks do);
    /// a prefix still being written is planned only once that write's results are in, as a plan starts
    /// from what the kernel holds. A batch that is not full is waited for before returning.
    /// Returns how many changes were read.
    /// </summary>
    private async Task<int> ReadBatchAsync(JournalReader reader, CancellationToken ct)
    {
        var n = reader.TryRead(_batch);
        var now = Time.GetTimestamp();
        if (n == 0 && !HeldDue(now))
        {
            await FinishWriteAsync().ConfigureAwait(false);
            return 0;
        }
        _changes.Clear();
        var stamp = NextStamp();
        ExceptionDispatchInfo? failed = null;
        // Held when not catching up on a backlog or a bulk stream (planned at once: waiting would only
        // let it grow, and each settle step is a timer wake-up that a loaded machine delays), and only
        // with `merge paths`: the hold exists to write a prefix's paths as one multipath route; without
        // it the kernel gets the best route alone, and holding would only delay it (as BIRD 2, which
        // has no settle, writes each change at once).
        var hold = _options.MergePaths && _options.ExportSettleMin > TimeSpan.Zero && n < HoldBatch;
        // Newest first, so the first change met for a prefix is its latest state.
        for (var i = n - 1; i >= 0; i--)
        {
            var prefix = _batch[i].Prefix;
            var entry = _batch[i].NewEntry; // null for a removal
            if (!_options.Handles(prefix))
                continue;
            if (hold && !IsNewLonePath(prefix, entry, stamp))
            {
                Hold(prefix, now);
                continue;
            }
            // Planned from its newest state now: a hold of it from before is over.
            if (_held.Count > 0)
                _held.Remove(prefix);
            if (PlanOnce(prefix, entry, stamp) == PlanStep.WaitForWrite)
                failed = await WaitAndPlanAsync(prefix, entry, stamp, failed).ConfigureAwait(false);
        }
        // Held prefixes that have been still long enough, planned from the table as it is now.
        if (_held.Count > 0)
        {
            _released.Clear();
            _nextRelease = long.MaxValue;
            foreach (var (prefix, held) in _held)
            {
                var due = HeldUntil(held);
                if (due <= now)
                    _released.Add(prefix);
                else
                    _nextRelease = Math.Min(_nextRelease, due);
            }
            foreach (var prefix in _released)
            {
                _held.Remove(prefix);
                var entry = Table.Find(prefix);
                if (PlanOnce(prefix, entry, stamp) == PlanStep.WaitForWrite)
                    failed = await WaitAndPlanAsync(prefix, entry, stamp, failed).ConfigureAwait(false);
            }
            _released.Clear();
        }
        DropEmptied();
        FlushPlannedStats();
        // The entries are the table's own; do not keep them alive until the slots are reused.
        Array.Clear(_batch, 0, n);
        failed?.Throw();
        if (n < JournalBatch)
        {
            // Nothing more to plan while it is written: written on the loop itself, not handed to the
            // thread pool, whose queue is behind every session's read when a burst comes in (P3: the
            // first route waited there for milliseconds on a busy core). A netlink write runs inside
            // sendmsg and its answer is queued by then, so this completes without leaving the loop.
            await StartWriteAsync(inline: true).ConfigureAwait(false);
            await FinishWriteAsync().ConfigureAwait(false);
        }
        else
        {
            await StartWriteAsync().ConfigureAwait(false);
        }
        return n;
    }

    /// <summary>Waits for the write in flight (a prefix of this plan is in it), then plans the prefix; a failed write is kept to throw once the batch is planned.</summary>
    private async Task<ExceptionDispatchInfo?> WaitAndPlanAsync(Prefix prefix, RouteEntry? entry, int stamp, ExceptionDispatchInfo? failed)
    {
        try
        {
            await FinishWriteAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is NetlinkException or IOException or System.Net.Sockets.SocketException)
        {
            // The batch is planned to its end all the same: what is wanted must be known for
            // every prefix read, as the journal will not give these changes again and the
            // scan that repairs after a failure compares the kernel with what is wanted.
            failed ??= ExceptionDispatchInfo.Capture(e);
        }
        PlanOnce(prefix, entry, stamp);
        return failed;
    }

    // Prefixes read from the journal and not planned yet, with the timestamps (Time.GetTimestamp) of
    // their first and last change since they were held. Owned by the loop; small (one burst's prefixes).
    private readonly Dictionary<Prefix, (long First, long Last)> _held = [];
    private readonly List<Prefix> _released = [];
    // The earliest timestamp at which a held prefix is due (long.MaxValue: none held).
    private long _nextRelease = long.MaxValue;

    /// <summary>
    /// Whether <paramref name="entry"/> gives a prefix that has nothing of ours in the kernel (nothing
    /// installed, no write in flight) and is not held, its first and only path: written at once, not
    /// held, as BIRD writes every change at once. The hold is for merging paths into one multipath
    /// route; a prefix that has one path so far (a Calico block from its node: nearly every prefix of
    /// a mesh) gains nothing by waiting, and the settle step was most of a new block's time to the
    /// kernel (P3). A second path arriving later changes a route that is there, and that change is held.
    /// </summary>
    private bool IsNewLonePath(Prefix prefix, RouteEntry? entry, int stamp)
    {
        if (entry is { Count: > 1 } || (_held.Count > 0 && _held.ContainsKey(prefix)))
            return false;
        ref var slot = ref _view.Find(prefix);
        // Planned by this batch already (from a newer change of it): an older change is nothing more.
        return Unsafe.IsNullRef(ref slot) || slot.Seen == stamp || (slot.Installed is null && !slot.Pending);
    }

    /// <summary>Holds <paramref name="prefix"/>, changed at <paramref name="now"/>: it is planned once still for the settle time.</summary>
    private void Hold(Prefix prefix, long now)
    {
        ref var held = ref CollectionsMarshal.GetValueRefOrAddDefault(_held, prefix, out var exists);
        held = (exists ? held.First : now, now);
        _nextRelease = Math.Min(_nextRelease, HeldUntil(held));
    }

    /// <summary>When a held prefix is planned: still for the settle time since its last change, and at most the settle maximum after its first.</summary>
    private long HeldUntil((long First, long Last) held)
    {
        var frequency = Time.TimestampFrequency;
        var still = held.Last + (long)(_options.ExportSettleMin.TotalSeconds * frequency);
        var longest = held.First + (long)(_options.ExportSettleMax.TotalSeconds * frequency);
        return Math.Min(still, longest);
    }

    private bool HeldDue(long now) => _held.Count > 0 && _nextRelease <= now;

    /// <summary>How long until the next held prefix is due (zero when one is due already), or null when none is held.</summary>
    private TimeSpan? UntilNextRelease()
    {
        if (_held.Count == 0)
            return null;
        var now = Time.GetTimestamp();
        return _nextRelease <= now ? TimeSpan.Zero : Time.GetElapsedTime(now, _nextRelease);
    }

    /// <summary>
    /// Starts over from the table as it is: every prefix in it is planned, and every prefix we export
    /// that is not in it any more is withdrawn. The initial feed is the first resync.
    /// </summary>
    private async Task ResyncAsync(JournalReader reader, bool initialFeed, CancellationToken ct)
    {
        if (!initialFeed)
        {
            if (reader.NeedsResync)
            {
                Counters.CountResync();
                _log.LogWarning("{Protocol}: fell more than {Capacity} changes behind the table; resyncing from it", Name, reader.Capacity);
            }
            else
            {
                _log.LogInformation("{Protocol}: re-planning every route of the table", Name);
            }
        }
        _refeedRequested = false;
        // A journal batch still in flight: its results in first, so the plans below start from them.
        await FinishWriteAsync().ConfigureAwait(false);
        reader.Resync(_resyncEntries);
        // Every prefix is planned from the table as it is now, the held ones too.
        _held.Clear();
        _nextRelease = long.MaxValue;
        // Room for every prefix at once, rather than growing (and rehashing) step by step through a
        // table of 100,000 routes while the kernel waits for the next chunk.
        _view.EnsureCapacity(_resyncEntries.Count);
        _changes.Clear();
        var stamp = NextStamp();
        // The first chunk is small, so the kernel starts on it while the rest is planned.
        var chunk = FirstResyncChunk;
        try
        {
            foreach (var entry in _resyncEntries)
            {
                var prefix = entry.Prefix;
                // Only a write that failed whole leaves a prefix waiting (its chunks hold prefixes planned here, once).
                if (_options.Handles(prefix) && PlanOnce(prefix, entry, stamp) == PlanStep.WaitForWrite)
                {
                    await FinishWriteAsync().ConfigureAwait(false);
                    PlanOnce(prefix, entry, stamp);
                }
                if (_changes.Count >= chunk)
                {
                    await StartWriteAsync().ConfigureAwait(false);
                    chunk = ResyncChunk;
                }
            }
            // Wanted before and not in the table any more.
            _scanPlan.Clear();
            foreach (var (p, slot) in _view)
            {
                if (slot.Desired is not null && slot.Seen != stamp)
                    _scanPlan.Add(p);
            }
            foreach (var prefix in _scanPlan)
                Plan(ref _view.Find(prefix), prefix, null, _changes, stamp);
            _scanPlan.Clear();
            DropEmptied();
            await StartWriteAsync().ConfigureAwait(false);
            await FinishWriteAsync().ConfigureAwait(false);
        }
        catch
        {
            // Stopped part-way, some prefixes were never planned and the journal will not give them
            // again: the loop starts the resync over (after its pause on errors).
            _refeedRequested = true;
            throw;
        }
        finally
        {
            _resyncEntries.Clear();
            DropEmptied();
            FlushPlannedStats();
            // On a failure, the write still in flight is waited for (its results taken in when it
            // succeeded), so nothing of it runs on when the loop goes on or stops.
            if (_inflight is not null)
                await FinishWriteQuietlyAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Writes of a resync per write task: every prefix of a resync is planned once, so the chunks touch
    /// different prefixes and the next can be planned while the kernel takes in the one before.
    /// </summary>
    private const int ResyncChunk = 8192;

    /// <summary>
    /// The first chunk of a resync: planning 8,192 routes took ~5 ms before the kernel had a first one
    /// to take in (P5's install, a table filled before the start).
    /// </summary>
    private const int FirstResyncChunk = 1024;

    // The chunk of a resync or batch of the journal being written on another thread and the list it is
    // written from; its prefixes' slots are marked Pending (so a later batch does not plan one of them
    // before its result is in).
    private Task<NetlinkResult[]>? _inflight;
    private List<RouteChange> _inflightChanges = [];

    /// <summary>
    /// Starts writing <see cref="_changes"/> on the thread pool, after taking in the results of the
    /// chunk before (at most one in flight); <see cref="_changes"/> is empty after. The kernel's work
    /// for a chunk (done inside sendmsg) then overlaps with planning the next one, on another core.
    /// <paramref name="inline"/>: started on the calling thread instead, for a write that is waited
    /// for at once (no overlap to gain, and no queue to wait in).
    /// </summary>
    private async Task StartWriteAsync(bool inline = false)
    {
        await FinishWriteAsync().ConfigureAwait(false);
        if (_changes.Count == 0)
            return;
        (_inflightChanges, _changes) = (_changes, _inflightChanges);
        _changes.Clear();
        var changes = _inflightChanges;
        var netlink = _netlink!;
        // Not cancelled with the loop: a write stopped half-way would leave routes in the kernel whose
        // results were never taken in (and so never removed on stop); a batch ends within the reply timeout.
        _inflight = inline
            ? netlink.ApplyAsync(changes, CancellationToken.None)
            : Task.Run(() => netlink.ApplyAsync(changes, CancellationToken.None), CancellationToken.None);
    }

    /// <summary>Waits for the chunk in flight, if any, and takes in its results (on the loop, which owns the view).</summary>
    private async Task FinishWriteAsync()
    {
        if (_inflight is not { } write)
            return;
        _inflight = null;
        try
        {
            NetlinkResult[] results;
            try
            {
                results = await write.ConfigureAwait(false);
            }
            catch
            {
                ClearPending(_inflightChanges);
                throw;
            }
            TakeResults(_inflightChanges, results);
        }
        finally
        {
            _inflightChanges.Clear();
        }
    }

    private enum PlanStep
    {
        Done,
        WaitForWrite,
    }

    /// <summary>
    /// Plans <paramref name="prefix"/> once per batch or resync (<paramref name="stamp"/>) with one
    /// look-up of its slot, added when there is none (a new prefix, the common case when routes come
    /// in; a slot left empty is dropped at the batch's end); <see cref="PlanStep.WaitForWrite"/> when
    /// a write of it is in flight, whose result must be in first (a plan starts from what the kernel holds).
    /// </summary>
    private PlanStep PlanOnce(Prefix prefix, RouteEntry? entry, int stamp)
    {
        ref var slot = ref _view.GetOrAdd(prefix);
        if (slot.Seen == stamp)
            return PlanStep.Done;
        if (slot.Pending && _inflight is not null)
            return PlanStep.WaitForWrite;
        Plan(ref slot, prefix, entry, _changes, stamp);
        return PlanStep.Done;
    }

    private async Task FinishWriteQuietlyAsync()
    {
        try
        {
            await FinishWriteAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is NetlinkException or IOException or System.Net.Sockets.SocketException or OperationCanceledException)
        {
            // The failure that ended the resync is the one reported; what this chunk did is read back by the next scan.
        }
    }

    /// <summary>
    /// Before a resync, waits while the table keeps
    /// changing (at most <see cref="KernelProtocolOptions.ExportSettleMax"/>, and not once a full batch
    /// is waiting), polling every <see cref="KernelProtocolOptions.ExportSettleMin"/>: a burst (the
    /// paths of one prefix from several peers, a peer's whole table) is then read as one batch. The
    /// idea of BIRD 3's export settle timer.
    /// </summary>
    private async Task SettleAsync(JournalReader reader, CancellationToken ct)
    {
        var step = _options.ExportSettleMin;
        if (step <= TimeSpan.Zero)
            return;
        var deadline = Time.GetUtcNow() + _options.ExportSettleMax;
        var version = Table.Version;
        while ((reader.NeedsResync || reader.Lag < JournalBatch) && Time.GetUtcNow() < deadline)
        {
            await Task.Delay(step, Time, ct).ConfigureAwait(false);
            var now = Table.Version;
            if (now == version)
                return;
            version = now;
        }
    }
}
