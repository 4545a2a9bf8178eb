using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Hosting;

/// <summary>
/// Gives memory back to the system: a full, compacting collection that returns the freed regions, once
/// things have settled after a big table went away (<see cref="Rib.RoutingTable.BulkRemoved"/>) or after
/// a burst of work the daemon has gone quiet from (<see cref="WatchForQuiet"/>); and the young generation of a
/// daemon that stays busy but slow.
/// </summary>
/// <remarks>
/// <para>The routes of a peer that drops are garbage the GC frees only in a full collection, and a daemon
/// that then allocates little may not have one for hours: a second after a million-route peer went away
/// the daemon was still at 179 MiB where BIRD 2 was back at 7 (bench/RESULTS-perf.md, fourteenth round). The
/// collection waits <see cref="Settle"/> after the last such removal (the exports are still sending the
/// withdrawals, and a peer rarely drops alone), and comes at most once per <see cref="MinInterval"/>,
/// so a flapping big peer costs a full collection per interval at most.</para>
/// <para>A burst — hundreds of sessions set up at once, a big table arriving — leaves its garbage in the
/// young generation, all of it resident until the next collection, which a quiet daemon may not have for
/// hours: 500 sessions left a node at 42 MiB where one collection brings it to 26 (BIRD 2: 18; bench/
/// RESULTS-perf.md, eighteenth round). Every <see cref="QuietCheck"/> the watch compares what was
/// allocated since the last look: once at least <see cref="BurstBytes"/> were allocated since the last
/// collection and the last look found under <see cref="QuietBytes"/>, it collects, if the heap is
/// under <see cref="LargeHeapBytes"/> (a full collection's pause grows with what lives; in a big heap the
/// young generation's slack is a small part of it). A daemon that never goes quiet (a reflector under
/// churn) gets no full collection from the watch.</para>
/// <para>Such a daemon, if it allocates slowly (under <see cref="SlowBytes"/> between looks), has its young
/// generation collected at every <see cref="BurstBytes"/> instead, counted from the young generation's
/// last collection, the GC's own included: left to the GC, its garbage walked through the whole 16 MiB
/// budget, every page resident, before the first collection (a reflector under churn at 1,000 changes a
/// second: 29 MiB after a minute; collected at each burst, the young generation reuses its pages: 17.6;
/// bench/RESULTS-perf.md, nineteenth round). A young collection costs little: its survivors are few.</para>
/// </remarks>
internal sealed partial class MemoryReturner : IDisposable
{
    /// <summary>How long after the last big removal the collection comes.</summary>
    public static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(500);

    /// <summary>The least time between two collections.</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(10);

    /// <summary>How often the watch looks at what was allocated.</summary>
    public static readonly TimeSpan QuietCheck = TimeSpan.FromSeconds(2);

    /// <summary>Allocated since the last collection before a quiet spell is worth one (a quarter of the young generation's budget).</summary>
    public const long BurstBytes = 4 << 20;

    /// <summary>
    /// Allocated between two looks that still counts as quiet: an idle node with 500 sessions makes ~2 KB
    /// a second, a reflector passing on a hundred changes a second several times this.
    /// </summary>
    public const long QuietBytes = 64 << 10;

    /// <summary>The heap above which the watch leaves collections to the GC.</summary>
    public const long LargeHeapBytes = 64L << 20;

    /// <summary>
    /// Allocated between two looks below which a daemon that is not quiet still counts as slow: a
    /// reflector passing on 10,000 changes a second (P4 at 5,000/s) allocates about 3 MiB between looks
    /// (bench/RESULTS-perf.md, nineteenth round), a full table arriving hundreds of MiB. Above it the
    /// young generation's budget fills within seconds anyway, and the GC's own collections are left alone.
    /// </summary>
    public const long SlowBytes = 8L << 20;

    private readonly TimeProvider _time;
    private readonly Action _collect;
    private readonly Func<long> _allocatedBytes;
    private readonly Func<long> _heapBytes;
    private readonly Action _collectYoung;
    private readonly Func<int> _youngCollections;
    private readonly ILogger _log;
    private readonly ITimer _timer;
    private readonly ITimer _watch;
    private readonly Lock _lock = new();
    private long _removed;
    private DateTimeOffset _last = DateTimeOffset.MinValue;
    private long _allocatedAtLook;
    private long _allocatedAtCollection;
    // The young generation's last collection (ours or the GC's own), and what was allocated then.
    private int _youngCollectionsAtLook;
    private long _allocatedAtYoung;
    private bool _disposed;
    // A collection is due at the next quiet look however little was allocated, and why: "start-up"
    // (its tail) or "a reload"; null when none is.
    private string? _settle;

    /// <param name="collect">The collection (tests count it); the daemon's is <see cref="CollectAndReturn"/>.</param>
    /// <param name="allocatedBytes">Bytes allocated so far (tests set it); the daemon's is <see cref="GC.GetTotalAllocatedBytes"/>.</param>
    /// <param name="heapBytes">The heap's size now (tests set it); the daemon's is <see cref="GC.GetTotalMemory"/>.</param>
    /// <param name="collectYoung">The young generation's collection (tests count it); the daemon's is <see cref="CollectYoung"/>.</param>
    /// <param name="youngCollections">Collections of the young generation so far, the GC's own included (tests set it); the daemon's is <see cref="GC.CollectionCount"/> of generation 0.</param>
    public MemoryReturner(TimeProvider time, ILogger log, Action? collect = null, Func<long>? allocatedBytes = null, Func<long>? heapBytes = null, Action? collectYoung = null, Func<int>? youngCollections = null)
    {
        _time = time;
        _log = log;
        _collect = collect ?? CollectAndReturn;
        _allocatedBytes = allocatedBytes ?? (static () => GC.GetTotalAllocatedBytes(precise: false));
        _heapBytes = heapBytes ?? (static () => GC.GetTotalMemory(forceFullCollection: false));
        _collectYoung = collectYoung ?? CollectYoung;
        _youngCollections = youngCollections ?? (static () => GC.CollectionCount(0));
        _timer = time.CreateTimer(static s => ((MemoryReturner)s!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _watch = time.CreateTimer(static s => ((MemoryReturner)s!).Look(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// Starts the watch for a quiet spell after a burst; what was allocated until now counts as
    /// collected (the daemon calls it right after start-up's own collection).
    /// </summary>
    /// <param name="settleStartUp">
    /// Whether the first quiet look collects anyway: start-up's tail runs after start-up's collection
    /// (the first interface and route scans, the first connection attempts, the endpoints' first
    /// requests), each running code once and bringing back the image's pages around it. A mesh node
    /// whose peers were down was at 11.7 MiB half a minute after its start, 10.1–10.5 with this (the
    /// image's pages 6.7 → 5.1–5.4 MiB; bench/RESULTS-perf.md, twenty-third round).
    /// </param>
    public void WatchForQuiet(bool settleStartUp = false)
    {
        lock (_lock)
        {
            if (_disposed)
                return;
            _settle = settleStartUp ? "start-up" : null;
            _allocatedAtLook = _allocatedAtCollection = _allocatedAtYoung = _allocatedBytes();
            _youngCollectionsAtLook = _youngCollections();
            _watch.Change(QuietCheck, QuietCheck);
        }
    }

    /// <summary>
    /// A reload finished: what it made and dropped (the config's text, tokens and records, the old and
    /// new protocols' set-up) and the image's pages it touched (the parser, the diff) go back at the next
    /// quiet look, however little it allocated. Calico's confd reloads every node as nodes come and go:
    /// a mesh node whose peers were down was at 13.5–13.6 MiB after a `configure` (and a few queries
    /// and scrapes), 10.2–10.4 with this (bench/RESULTS-perf.md, twenty-third round).
    /// </summary>
    public void Reloaded()
    {
        lock (_lock)
        {
            if (!_disposed)
                _settle = "a reload";
        }
    }

    /// <summary>A table removed <paramref name="routes"/> at once: (re)arms the collection.</summary>
    public void Removed(int routes)
    {
        lock (_lock)
        {
            if (_disposed)
                return;
            _removed += routes;
            var due = _time.GetUtcNow() + Settle;
            var allowed = _last == DateTimeOffset.MinValue ? due : _last + MinInterval;
            var at = due > allowed ? due : allowed;
            _timer.Change(at - _time.GetUtcNow(), Timeout.InfiniteTimeSpan);
        }
    }

    private void Fire()
    {
        long removed;
        lock (_lock)
        {
            if (_disposed || _removed == 0)
                return;
            removed = _removed;
            _removed = 0;
            _last = _time.GetUtcNow();
        }
        var (before, after) = Collect();
        if (_log.IsEnabled(LogLevel.Debug))
            _log.LogDebug("Gave memory back after {Routes} routes were withdrawn in bulk: managed heap {Before} -> {After} MiB", removed, before >> 20, after >> 20);
    }

    /// <summary>The watch's look: collects once a burst has gone quiet, or the young generation of a slow one (see the remarks).</summary>
    private void Look()
    {
        var allocated = _allocatedBytes();
        var young = _youngCollections();
        long burst;
        string? settled = null;
        lock (_lock)
        {
            var sinceLook = allocated - _allocatedAtLook;
            _allocatedAtLook = allocated;
            if (young != _youngCollectionsAtLook)
            {
                // The GC collected on its own since the last look: the young generation starts again.
                _youngCollectionsAtLook = young;
                _allocatedAtYoung = allocated;
            }
            if (_disposed)
                return;
            if (sinceLook >= QuietBytes)
            {
                if (sinceLook >= SlowBytes || allocated - _allocatedAtYoung < BurstBytes)
                    return;
                burst = -1;
            }
            else
            {
                if (allocated - _allocatedAtCollection < BurstBytes && _settle is null)
                    return;
                // A bulk removal's collection is due or the last one was recent: that one will do.
                if (_removed != 0 || _time.GetUtcNow() - _last < MinInterval || _heapBytes() >= LargeHeapBytes)
                    return;
                _last = _time.GetUtcNow();
                burst = allocated - _allocatedAtCollection;
                settled = burst < BurstBytes ? _settle : null;
            }
        }
        if (burst < 0)
        {
            // Busy but slow (a reflector under steady churn): its garbage would otherwise walk through the
            // whole young generation's budget, every page of it resident, before the GC's own collection.
            // Collected at a burst, the young generation reuses the pages it has.
            _collectYoung();
            lock (_lock)
            {
                _youngCollectionsAtLook = _youngCollections();
                _allocatedAtYoung = _allocatedBytes();
            }
            return;
        }
        var (before, after) = Collect();
        if (!_log.IsEnabled(LogLevel.Debug))
            return;
        if (settled is not null)
            _log.LogDebug("Gave memory back after {What} went quiet: managed heap {Before} -> {After} MiB", settled, before >> 20, after >> 20);
        else
            _log.LogDebug("Gave memory back after a burst of {Burst} MiB allocated went quiet: managed heap {Before} -> {After} MiB", burst >> 20, before >> 20, after >> 20);
    }

    /// <summary>Collects; what was allocated until then counts as collected. The managed heap before and after.</summary>
    private (long Before, long After) Collect()
    {
        var before = _heapBytes();
        _collect();
        lock (_lock)
        {
            _allocatedAtLook = _allocatedAtCollection = _allocatedBytes();
            _settle = null;
        }
        return (before, _heapBytes());
    }

    /// <summary>
    /// A blocking, compacting full collection that also decommits what it freed; then the C heap's
    /// free pages go back too (the Adj-RIB-Out's slot pages are native: a million routes' worth, freed
    /// as the withdrawals went out, stayed in glibc's arena, ~12 MiB), and the pages of the image that
    /// start-up or the removal touched and nothing runs now (<see cref="ImageResidency"/>).
    /// </summary>
    public static void CollectAndReturn()
    {
        // The image first: the garbage of reading /proc goes with the rest, and the
        // collection, which needs memory to compact into, runs with the process at its smallest.
        ImageResidency.Release();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        try
        {
            _ = MallocTrim(0);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            // Not glibc (musl has no malloc_trim): its allocator keeps what it keeps.
        }
    }

    /// <summary>A blocking collection of the young generation alone: its survivors move up, its pages stay for reuse.</summary>
    public static void CollectYoung() => GC.Collect(0, GCCollectionMode.Forced, blocking: true);

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    public void Dispose()
    {
        lock (_lock)
            _disposed = true;
        _timer.Dispose();
        _watch.Dispose();
    }
}
