using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Hosting;

/// <summary>
/// Gives memory back to the system after a big table went away (<see cref="Rib.RoutingTable.BulkRemoved"/>):
/// a full, compacting collection that returns the freed regions, once things have settled.
/// </summary>
/// <remarks>
/// The routes of a peer that drops are garbage the GC frees only in a full collection, and a daemon
/// that then allocates little may not have one for hours: a second after a million-route peer went away
/// the daemon was still at 179 MiB where BIRD 2 was back at 7 (bench/RESULTS-perf.md, fourteenth round). The
/// collection waits <see cref="Settle"/> after the last such removal (the exports are still sending the
/// withdrawals, and a peer rarely drops alone), and comes at most once per <see cref="MinInterval"/>,
/// so a flapping big peer costs a full collection per interval at most.
/// </remarks>
internal sealed partial class MemoryReturner : IDisposable
{
    /// <summary>How long after the last big removal the collection comes.</summary>
    public static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(500);

    /// <summary>The least time between two collections.</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _time;
    private readonly Action _collect;
    private readonly ILogger _log;
    private readonly ITimer _timer;
    private readonly Lock _lock = new();
    private long _removed;
    private DateTimeOffset _last = DateTimeOffset.MinValue;
    private bool _disposed;

    /// <param name="collect">The collection (tests count it); the daemon's is <see cref="CollectAndReturn"/>.</param>
    public MemoryReturner(TimeProvider time, ILogger log, Action? collect = null)
    {
        _time = time;
        _log = log;
        _collect = collect ?? CollectAndReturn;
        _timer = time.CreateTimer(static s => ((MemoryReturner)s!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
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
        var before = GC.GetTotalMemory(false);
        _collect();
        if (_log.IsEnabled(LogLevel.Debug))
        {
            _log.LogDebug("Gave memory back after {Routes} routes were withdrawn in bulk: managed heap {Before} -> {After} MiB",
                removed, before >> 20, GC.GetTotalMemory(false) >> 20);
        }
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

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    public void Dispose()
    {
        lock (_lock)
            _disposed = true;
        _timer.Dispose();
    }
}
