namespace Calico.Bgp.KernelBench;

/// <summary>
/// The collections of one timed window (an install or a removal of ours) and the time the runtime
/// held every managed thread for them: a collection stops the protocol's loop and its writer too
/// (the writer once its sendmsg returns), so its pause is part of the window's wall time. Beside
/// them, how long this process's threads waited for a CPU in the window (<see cref="RunQueueWait"/>).
/// </summary>
public readonly record struct GcWindow(int Gen0, int Gen1, int Gen2, TimeSpan Pause, long Allocated, TimeSpan RunQueue)
{
    public static GcWindow Start() => new(GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration(), GC.GetTotalAllocatedBytes(), RunQueueWait.Total());

    /// <summary>What happened since <see cref="Start"/> (GC.CollectionCount(n) counts the collections of generation n or older).</summary>
    public GcWindow End() => new(GC.CollectionCount(0) - Gen0, GC.CollectionCount(1) - Gen1, GC.CollectionCount(2) - Gen2, GC.GetTotalPauseDuration() - Pause, GC.GetTotalAllocatedBytes() - Allocated, RunQueueWait.Total() - RunQueue);

    /// <summary>The last full blocking collection, when it fell in the window: what it promoted and how big the large object heap was before it (an allocation there can bring one on).</summary>
    public static string LastFull()
    {
        var full = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        if (full.Index == 0)
            return "";
        // GenerationInfo: gen0, gen1, gen2, the large object heap, the pinned object heap.
        var loh = full.GenerationInfo[3];
        return $"; last full collection #{full.Index}: {full.PauseDurations[0].TotalMilliseconds:F1} ms, promoted {full.PromotedBytes / 1048576.0:F1} MiB, heap {full.HeapSizeBytes / 1048576.0:F1} MiB, LOH {loh.SizeBeforeBytes / 1048576.0:F1} -> {loh.SizeAfterBytes / 1048576.0:F1} MiB, compacted {full.Compacted}";
    }

    public override string ToString() =>
        $"GC: {Gen0} collections (of them {Gen1} gen1, {Gen2} gen2), {Pause.TotalMilliseconds:F1} ms paused, {Allocated / 1048576.0:F1} MiB allocated; threads waited {RunQueue.TotalMilliseconds:F0} ms for a CPU";
}
