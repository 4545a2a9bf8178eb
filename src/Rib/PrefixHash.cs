using System.Numerics;

namespace Calico.Bgp.Rib;

/// <summary>
/// The hash shared by the open-addressed prefix maps (the table's <see cref="PrefixMap"/> and an update
/// group's Adj-RIB-Out), and the mix both order their homes with (<see cref="Fmix32"/>). Each map keeps
/// its own per-process seed, so which prefixes collide cannot be chosen from outside (peers pick the prefixes).
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
        // On the two words, not as a UInt128: its variable shifts are calls in the AOT build, once
        // per received prefix (0.8 % of P1's samples). Same value as the 128-bit form.
        ulong hi = prefix.Hi, lo = prefix.Lo;
        var length = prefix.Length;
        var neighbour = 0;
        if (length >= 2)
        {
            var hostBits = (prefix.IsV6 ? 128 : 32) - length;
            if (hostBits < 64)
            {
                neighbour = (int)(lo >> hostBits) & 3;
                lo &= ~(3UL << hostBits);
                if (hostBits == 63)
                {
                    // The two bits straddle the words (a /65): the upper one is the high word's last.
                    neighbour |= (int)(hi & 1) << 1;
                    hi &= ~1UL;
                }
            }
            else
            {
                neighbour = (int)(hi >> (hostBits - 64)) & 3;
                hi &= ~(3UL << (hostBits - 64));
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
    /// The first slot to probe for <paramref name="hash"/> in <paramref name="length"/> slots laid out in
    /// <paramref name="order"/>: a bijection of the hash without its neighbour bits (fmix32 is
    /// invertible, so the order is a permutation of the hashes), scaled to the array by multiply-shift.
    /// Four neighbouring prefixes share a home, and for one order the home is monotonic in that
    /// bijection at every length, so a rebuild that keeps the order reads the old array and writes the
    /// new one in the same direction.
    /// </summary>
    public static int Home(int hash, int length, uint order)
    {
        var h = Fmix32(((uint)hash >> 2) ^ order);
        return (int)((ulong)h * (ulong)length >> 32);
    }

    /// <summary>MurmurHash3's fmix32: invertible, and every input bit reaches every output bit.</summary>
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
