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
    /// hold at least <see cref="ScatterFrom"/> deletes that come in order (lowest or highest first, at
    /// the scale of <see cref="Stride"/> deletes).
    /// Adds alone, and deletes already scattered (a table flushed in its own hash order, as when a
    /// session goes down), keep their order: sorting them would cost ~250 ns per change for nothing.
    /// Stable for one prefix: a metric change's delete stays before its add.
    /// </summary>
    public static void Scatter(List<RouteChange> changes)
    {
        var span = CollectionsMarshal.AsSpan(changes);
        if (span.Length < ScatterFrom || !DeletesInOrder(span))
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

    /// <summary>
    /// How far apart two deletes are compared. Neighbours alone miss an order at a larger scale: a
    /// protocol that read its journal in small batches, each planned newest first, holds its routes
    /// as short descending runs that ascend from run to run, and deleting them so is as slow for the
    /// trie as lowest first (it failed <c>KernelDeleteOrderTests</c> once the initial feed came through
    /// the journal: a quarter of the neighbours were out of step, so it counted as scattered).
    /// </summary>
    private const int Stride = 64;

    /// <summary>
    /// At least <see cref="ScatterFrom"/> deletes, three in four of them in the same direction from the
    /// delete <see cref="Stride"/> before (a hash order is half and half at any distance).
    /// </summary>
    private static bool DeletesInOrder(ReadOnlySpan<RouteChange> changes)
    {
        var prefixes = ArrayPool<Rib.Prefix>.Shared.Rent(changes.Length);
        try
        {
            var deletes = 0;
            foreach (var c in changes)
            {
                if (c.Kind == RouteChangeKind.Delete)
                    prefixes[deletes++] = c.Route.Prefix;
            }
            if (deletes < ScatterFrom)
                return false;
            int up = 0, down = 0;
            for (var i = Stride; i < deletes; i++)
            {
                var order = prefixes[i].CompareTo(prefixes[i - Stride]);
                if (order > 0)
                    up++;
                else if (order < 0)
                    down++;
            }
            return Math.Max(up, down) * 4L >= (deletes - Stride) * 3L;
        }
        finally
        {
            ArrayPool<Rib.Prefix>.Shared.Return(prefixes);
        }
    }
}
