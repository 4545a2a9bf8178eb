using Calico.Bgp.Speaker.Export;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>The export's set of prefix numbers brought up to date within one chunk of journal changes.</summary>
public class ChunkSeenTests
{
    [Fact]
    public void A_number_is_new_once_per_chunk_and_a_new_chunk_forgets_them_all()
    {
        var seen = new ChunkSeen(8);
        Assert.True(seen.Add(5));
        Assert.False(seen.Add(5));
        Assert.True(seen.Add(0));
        Assert.False(seen.Add(0));
        Assert.True(seen.Add(int.MaxValue));
        Assert.False(seen.Add(int.MaxValue));

        seen.Clear();
        Assert.True(seen.Add(5));
        Assert.True(seen.Add(0));
        Assert.True(seen.Add(int.MaxValue));
        Assert.False(seen.Add(5));
    }

    [Fact]
    public void A_full_chunk_of_colliding_and_consecutive_numbers_keeps_each_apart()
    {
        const int chunk = 2048;
        var seen = new ChunkSeen(chunk);
        for (var round = 0; round < 3; round++)
        {
            seen.Clear();
            // Half consecutive (a table arriving in order), half multiples of the set's size, which
            // share their low bits; offset per round so a slot left from the chunk before never matches.
            var numbers = Enumerable.Range(0, chunk / 2).Select(i => i + round)
                .Concat(Enumerable.Range(1, chunk / 2).Select(i => (i * 4096) + round))
                .ToArray();
            foreach (var n in numbers)
                Assert.True(seen.Add(n), $"{n} is new in round {round}");
            foreach (var n in numbers)
                Assert.False(seen.Add(n), $"{n} was added in round {round}");
            Assert.True(seen.Add(chunk + 1 + round + 10_000_000));
        }
    }
}
