using System.Numerics;

namespace Calico.Bgp.Rib;

/// <summary>
/// The hash and home slot shared by the open-addressed prefix maps (the table's <see cref="PrefixMap"/>
/// and an update group's Adj-RIB-Out). Each map keeps its own per-process seed, so which prefixes
/// collide cannot be chosen from outside (peers pick the prefixes).
/// </summary>
public static class PrefixHash
{
    /// <summary>
    /// The hash of <paramref name="prefix"/>: the two low bits tell four neighbouring prefixes of one
    /// length (those that differ only in their last two network bits) apart, the rest comes from their
    /// common part, so the four share a home (<see cref="Home"/> ignores the low bits) and sit in
    /// adjacent slots: a table arriving in order touches a cache line per four prefixes. Probes compare
    /// whole hashes, so neighbours still pass each other without loading a key.
    /// </summary>
    public static int Of(in Prefix prefix, ulong seed)
    {
        // On the two 64-bit words, not a UInt128: its shifts are calls, twice per received route.
        ulong hi = prefix.Hi, lo = prefix.Lo;
        var length = prefix.Length;
        var neighbour = 0;
        if (length >= 2)
        {
            var hostBits = (prefix.IsV6 ? 128 : 32) - length;
            if (hostBits >= 64)
            {
                neighbour = (int)(hi >> (hostBits - 64)) & 3;
                hi &= ~(3UL << (hostBits - 64));
            }
            else if (hostBits == 63)
            {
                // The two bits straddle the words: bit 63 of the low, bit 0 of the high.
                neighbour = (int)((lo >> 63) | ((hi & 1) << 1));
                lo &= ~(1UL << 63);
                hi &= ~1UL;
            }
            else
            {
                neighbour = (int)(lo >> hostBits) & 3;
                lo &= ~(3UL << hostBits);
            }
        }
        var h = hi ^ BitOperations.RotateLeft(lo, 23) ^ ((ulong)length << 56) ^ (prefix.IsV6 ? 1UL << 63 : 0) ^ seed;
        // MurmurHash3's fmix64: every input bit reaches the bits the hash keeps.
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53UL;
        h ^= h >> 33;
        return (int)((uint)(h >> 32) & ~3u) | neighbour;
    }

    /// <summary>
    /// The first slot to probe for <paramref name="hash"/> in an array of <paramref name="length"/>:
    /// the hash without its neighbour bits, mixed with the length and scaled to the array (Lemire's
    /// multiply-shift), so the array can be any length and grow by less than doubling.
    /// </summary>
    /// <remarks>
    /// Mixing in the length gives each array size an order of its own. With one order for all, the
    /// slot is monotonic in the hash: removing entries in slot order (a withdrawn table walked by its
    /// map, a resync walking the Adj-RIB-Out) leaves one hash range, which a shrinking rebuild packs
    /// into one run at one end of the smaller array, and every probe walks it. 200k routes of a session
    /// that went down took 7.7 CPU s to leave the table, and emptying a million-prefix Adj-RIB-Out
    /// took minutes (bench/RESULTS-perf.md, fifth round).
    /// </remarks>
    public static int Home(int hash, int length)
    {
        // MurmurHash3's fmix32 over the group's hash and the length (cheaper than HashCode.Combine).
        var h = ((uint)hash >> 2) ^ ((uint)length * 0x9E3779B9u);
        h ^= h >> 16;
        h *= 0x85ebca6bu;
        h ^= h >> 13;
        h *= 0xc2b2ae35u;
        h ^= h >> 16;
        return (int)((ulong)h * (ulong)length >> 32);
    }
}
