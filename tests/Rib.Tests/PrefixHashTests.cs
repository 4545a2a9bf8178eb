using System.Numerics;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Rib.Tests;

/// <summary>
/// <see cref="PrefixHash.Of"/> works on the prefix's two words; it must give what the plain 128-bit
/// form of the same definition gives, for every length of both families (the neighbour bits may sit in
/// either word or straddle them).
/// </summary>
public class PrefixHashTests
{
    /// <summary>The definition, on a UInt128 (the form the two-word code replaced).</summary>
    private static int Reference(in Prefix prefix, ulong seed)
    {
        var bits = ((UInt128)prefix.Hi << 64) | prefix.Lo;
        var length = prefix.Length;
        var neighbour = 0;
        if (length >= 3)
        {
            var hostBits = (prefix.IsV6 ? 128 : 32) - length;
            neighbour = (int)(bits >> hostBits) & 7;
            bits &= ~((UInt128)7 << hostBits);
        }
        var h = (ulong)(bits >> 64) ^ BitOperations.RotateLeft((ulong)bits, 23) ^ ((ulong)length << 56) ^ (prefix.IsV6 ? 1UL << 63 : 0) ^ seed;
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53UL;
        h ^= h >> 33;
        return (int)((uint)(h >> 32) & ~7u) | neighbour;
    }

    [Fact]
    public void Two_words_give_the_128_bit_definitions_hash_at_every_length()
    {
        var random = new Random(9);
        var checkedCount = 0;
        for (var length = 0; length <= 128; length++)
        {
            for (var k = 0; k < 200; k++)
            {
                var seed = (ulong)random.NextInt64();
                var v6 = Prefix.FromV6((ulong)random.NextInt64() ^ ((ulong)random.Next() << 63), (ulong)random.NextInt64() ^ ((ulong)random.Next() << 63), length);
                Assert.Equal(Reference(v6, seed), PrefixHash.Of(v6, seed));
                checkedCount++;
                if (length <= 32)
                {
                    var v4 = Prefix.FromV4((uint)random.NextInt64(), length);
                    Assert.Equal(Reference(v4, seed), PrefixHash.Of(v4, seed));
                    checkedCount++;
                }
            }
        }
        Assert.Equal(129 * 200 + 33 * 200, checkedCount);
    }
}
