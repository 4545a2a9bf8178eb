using System.Buffers;
using System.Runtime.InteropServices;
using Calico.Bgp.Fib.Netlink;

namespace Calico.Bgp.Fib.Kernel;

/// <summary>
/// The order in which many routes are deleted at once (stop without <c>persist</c>, a prune). The
/// kernel keeps IPv4 routes in an LC-trie (net/ipv4/fib_trie.c) that resizes a node after every change: deleting neighbouring prefixes one after another (as they were added, lowest
/// first) empties one side of node after node, and each halving then rebuilds what is left as new
/// binary nodes. In P5 (100,000 /24s) that resizing was ~75 % of the kernel's delete time in our
/// sendmsg; deleting the same routes in a scattered order takes about half the kernel's CPU
/// (bench/RESULTS-kernel.md, "delete order"); reverse order is as slow as in order, and the order
/// of adds made no measurable difference. Journal batches keep the table's order: shuffling runs of
/// 4,096 in-order deletes was not measurably cheaper for the kernel (the trie's big nodes still empty
/// from one side), reading bigger batches to scatter wider cost install and removal time in P5, and
/// a table flushed when a session goes down comes in its own (hash) order, already scattered.
/// </summary>
public static class KernelDeleteOrder
{
    /// <summary>Writes smaller than this keep their order: the trie's resizing only adds up over many deletes.</summary>
    public const int ScatterFrom = 1024;

    /// <summary>
    /// Reorders <paramref name="changes"/> by a hash of the prefix, scattered over the trie, when they
    /// hold at least <see cref="ScatterFrom"/> deletes, whatever order they came in. Only a stop and a
    /// prune delete this many at once, from the view, whose order is however its routes were planned:
    /// the table's order (a resync), or journal batches planned newest first (short descending runs
    /// that ascend from run to run, as slow for the trie as lowest first). Telling those apart from a
    /// scattered order cheaply failed twice (neighbour to neighbour, then 64 apart: a view of runs of
    /// a few hundred passed for scattered, CI's <c>KernelDeleteOrderTests</c>); sorting costs ~250 ns a
    /// change, a small part of the kernel's ~1.6 µs a delete. Adds alone keep their order. Stable for
    /// one prefix: a metric change's delete stays before its add.
    /// </summary>
    public static void Scatter(List<RouteChange> changes)
    {
        var span = CollectionsMarshal.AsSpan(changes);
        if (span.Length < ScatterFrom || CountDeletes(span) < ScatterFrom)
            return;
        var keys = ArrayPool<long>.Shared.Rent(changes.Count);
        try
        {
            // The hash in the high half, the position in the low half: equal prefixes keep their order.
            for (var i = 0; i < span.Length; i++)
                keys[i] = ((long)span[i].Route.Prefix.GetHashCode() << 32) | (uint)i;
            keys.AsSpan(0, span.Length).Sort(span);
        }
        finally
        {
            ArrayPool<long>.Shared.Return(keys);
        }
    }

    private static int CountDeletes(ReadOnlySpan<RouteChange> changes)
    {
        var deletes = 0;
        foreach (var c in changes)
        {
            if (c.Kind == RouteChangeKind.Delete)
                deletes++;
        }
        return deletes;
    }
}
