using System.Buffers;
using System.Runtime.InteropServices;
using Calico.Bgp.Fib.Netlink;

namespace Calico.Bgp.Fib.Kernel;

/// <summary>
/// The order in which a big write goes to the kernel (a journal batch, stop without <c>persist</c>,
/// a prune). The kernel keeps IPv4 routes in an LC-trie (net/ipv4/fib_trie.c) that resizes a node
/// after every change: deleting neighbouring prefixes one after another (as they were added, lowest
/// first) empties one side of node after node, and each halving then rebuilds what is left as new
/// binary nodes. In P5 (100,000 /24s) that resizing was ~75 % of the kernel's delete time in our
/// sendmsg; deleting the same routes in a scattered order takes about half the kernel's CPU
/// (bench/RESULTS-kernel.md, "delete order"); the order of adds made no measurable difference.
/// </summary>
public static class KernelDeleteOrder
{
    /// <summary>Writes smaller than this keep their order: the trie's resizing only adds up over many deletes.</summary>
    public const int ScatterFrom = 1024;

    /// <summary>
    /// Reorders <paramref name="changes"/> by a hash of the prefix, scattered over the trie. Stable
    /// for one prefix: a metric change's delete stays before its add.
    /// </summary>
    public static void Scatter(List<RouteChange> changes)
    {
        if (changes.Count < ScatterFrom)
            return;
        var keys = ArrayPool<long>.Shared.Rent(changes.Count);
        try
        {
            var span = CollectionsMarshal.AsSpan(changes);
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
}
