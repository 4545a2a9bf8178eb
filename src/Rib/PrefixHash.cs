using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Calico.Bgp.Rib;

/// <summary>
/// The hash of the table's open-addressed prefix map (<see cref="PrefixMap"/>), and the mix it orders
/// its homes with (<see cref="Fmix32"/>). The map keeps its own per-process seed, so which prefixes
/// collide cannot be chosen from outside (peers pick the prefixes).
/// </summary>
public static class PrefixHash
{
    /// <summary>
    /// Low hash bits that tell neighbouring prefixes apart: eight share a bucket (<see cref="Home"/>),
    /// the cells a cache line of the table's map holds (8 bytes each).
    /// </summary>
    public const int NeighbourBits = 3;

    private const int NeighbourMask = (1 << NeighbourBits) - 1;

    /// <summary>
    /// The hash of <paramref name="prefix"/>: the <see cref="NeighbourBits"/> low bits tell eight
    /// neighbouring prefixes of one length (those that differ only in their last three network bits)
    /// apart, the rest comes from their common part, so the eight share a bucket (<see cref="Home"/>
    /// gives each its own lane in it) and sit in one cache line: a table arriving in order touches a
    /// line per eight prefixes. Probes compare whole hashes, so a prefix still passes others without
    /// loading a key.
    /// </summary>
    public static int Of(in Prefix prefix, ulong seed)
    {
        // On the two words, not as a UInt128: its variable shifts are calls in the AOT build, once
        // per received prefix (0.8 % of P1's samples). Same value as the 128-bit form.
        ulong hi = prefix.Hi, lo = prefix.Lo;
        var length = prefix.Length;
        var neighbour = 0;
        if (length >= NeighbourBits)
        {
            var hostBits = (prefix.IsV6 ? 128 : 32) - length;
            if (hostBits <= 64 - NeighbourBits)
            {
                neighbour = (int)(lo >> hostBits) & NeighbourMask;
                lo &= ~((ulong)NeighbourMask << hostBits);
            }
            else if (hostBits >= 64)
            {
                neighbour = (int)(hi >> (hostBits - 64)) & NeighbourMask;
                hi &= ~((ulong)NeighbourMask << (hostBits - 64));
            }
            else
            {
                // The bits straddle the words (a /65 or /66): the low word's last ones, then the high word's first.
                var inLo = 64 - hostBits;
                neighbour = (int)(lo >> hostBits) | ((int)hi & (NeighbourMask >> inLo)) << inLo;
                lo &= ~(ulong.MaxValue << hostBits);
                hi &= ~(ulong)(NeighbourMask >> inLo);
            }
        }
        var h = hi ^ BitOperations.RotateLeft(lo, 23) ^ ((ulong)length << 56) ^ (prefix.IsV6 ? 1UL << 63 : 0) ^ seed;
        // MurmurHash3's fmix64: every input bit reaches the bits the hash keeps.
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53UL;
        h ^= h >> 33;
        return (int)((uint)(h >> 32) & ~(uint)NeighbourMask) | neighbour;
    }

    /// <summary>
    /// The <paramref name="n"/>th order a map seeded with <paramref name="seed"/> takes for its homes
    /// (<see cref="Home"/>): from a per-process seed, so two maps that never reorder lay the same keys
    /// out the same way (tests compare them), and unknowable from outside.
    /// </summary>
    public static uint Order(ulong seed, int n)
    {
        var h = seed + (ulong)n * 0x9E3779B97F4A7C15UL;
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 33;
        return (uint)h;
    }

    /// <summary>
    /// The first slot to probe for <paramref name="hash"/> in <paramref name="length"/> slots (a multiple
    /// of eight) laid out in <paramref name="order"/>: a bucket of eight slots (a cache line of the map's
    /// cells) from a bijection of the hash without its neighbour bits (fmix32 is invertible, so the order
    /// is a permutation of the hashes), scaled to the array by multiply-shift, and a lane in it, the
    /// neighbour bits mixed with three bits of that bijection. Eight neighbouring prefixes share the
    /// bucket and each has its own lane, so a group that arrives together fills one cache line, and a
    /// lookup finds a prefix of an undisturbed group at once. For one order the bucket is monotonic in
    /// that bijection at every length, so a rebuild that keeps the order reads the old array and writes
    /// the new one in the same direction.
    /// </summary>
    /// <remarks>
    /// The lane is mixed rather than the neighbour bits themselves so that prefixes which share their
    /// low bits (a table of every eighth /24) still spread over all eight lanes; the mix is the map's
    /// secret, as the bucket is. Probes go on lane by lane (<see cref="Next"/>).
    /// </remarks>
    // Inlined by request: the AOT compiler, without a call site to weigh, left it a call on every probe of the map (bench/RESULTS-perf.md, twenty-first round).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Home(int hash, int length, uint order)
    {
        Debug.Assert((length & NeighbourMask) == 0 && length > 0, "the map's arrays are whole buckets");
        var h = Fmix32(((uint)hash >> NeighbourBits) ^ order);
        var bucket = (int)((ulong)h * (ulong)(uint)(length >> NeighbourBits) >> 32);
        return (bucket << NeighbourBits) | ((hash ^ (int)h) & NeighbourMask);
    }

    /// <summary>
    /// The slot a probe tries after <paramref name="slot"/> in <paramref name="length"/> slots (a multiple
    /// of eight): the same lane of the next bucket, and past the last bucket the next lane of the first,
    /// so from any slot the probe meets every slot once before it comes back.
    /// </summary>
    /// <remarks>
    /// Not the next slot: groups of eight neighbours at random buckets make runs of used slots eight
    /// times as long as single keys do, and a new prefix of an ordered feed passed 26 other keys on
    /// average to reach its place (a simulated million /24 in order; 3 at random). Lane by lane each
    /// probe step passes one other group, and a group pushed out of its bucket still lands together in
    /// the next one: 3.3 steps, over the same cache lines (bench/RESULTS-perf.md, twenty-eighth round).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Next(int slot, int length)
    {
        Debug.Assert((length & NeighbourMask) == 0 && (uint)slot < (uint)length, "the map's arrays are whole buckets");
        slot += 1 << NeighbourBits;
        return slot < length ? slot : (slot - length + 1) & NeighbourMask;
    }

    /// <summary>MurmurHash3's fmix32: invertible, and every input bit reaches every output bit.</summary>
    // Inlined by request, as Home.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Fmix32(uint h)
    {
        h ^= h >> 16;
        h *= 0x85ebca6bu;
        h ^= h >> 13;
        h *= 0xc2b2ae35u;
        h ^= h >> 16;
        return h;
    }
}
