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

    public override string ToString() =>
        $"GC: {Gen0} collections (of them {Gen1} gen1, {Gen2} gen2), {Pause.TotalMilliseconds:F1} ms paused, {Allocated / 1048576.0:F1} MiB allocated; threads waited {RunQueue.TotalMilliseconds:F0} ms for a CPU";
}
