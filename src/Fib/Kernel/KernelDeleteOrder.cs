using System.Buffers;
using System.Runtime.InteropServices;
using Calico.Bgp.Fib.Netlink;

namespace Calico.Bgp.Fib.Kernel;

/// <summary>
/// The order in which many routes are deleted at once (on stop without <c>persist</c>, and when
/// pruning). The kernel keeps IPv4 routes in an LC-trie (net/ipv4/fib_trie.c) that resizes a node
/// after every change: deleting neighbouring prefixes one after another (as they were added, lowest
/// first) empties one side of node after node, and each halving then rebuilds what is left as new
/// binary nodes. In P5 (100,000 /24s) that resizing was ~75 % of the kernel's delete time in our
/// sendmsg; deleting the same routes in a scattered order takes about half the kernel's CPU
/// (bench/RESULTS-kernel.md, "delete order"). Which order the routes were installed in does not
/// matter for the add.
/// </summary>
public static class KernelDeleteOrder
{
    /// <summary>Reorders <paramref name="deletes"/> (deletes of distinct prefixes) by a hash of the prefix: scattered over the trie.</summary>
    public static void Scatter(List<RouteChange> deletes)
    {
        if (deletes.Count < 2)
            return;
        var keys = ArrayPool<int>.Shared.Rent(deletes.Count);
        try
        {
            var span = CollectionsMarshal.AsSpan(deletes);
            for (var i = 0; i < span.Length; i++)
                keys[i] = span[i].Route.Prefix.GetHashCode();
            keys.AsSpan(0, span.Length).Sort(span);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(keys);
        }
    }
}
