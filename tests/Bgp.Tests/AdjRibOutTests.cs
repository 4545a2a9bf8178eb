using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Export;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>The update group's open-addressed Adj-RIB-Out, checked against a dictionary doing the same operations.</summary>
public class AdjRibOutTests
{
    private static readonly PathAttributes Attrs = new() { Source = RouteSource.Bgp, NextHop = IpAddr.Parse("192.0.2.1") };

    private static Prefix V4(int i) => new(IpAddr.FromV4(0x0A000000u + ((uint)i << 8)), 24);

    private static Prefix V6(int i) => new(IpAddr.FromV6(((UInt128)0x20010DB8_00000000UL << 64) + ((UInt128)(ulong)i << 80)), 48);

    /// <summary>What <paramref name="map"/> holds for <paramref name="prefix"/>, as (source path id, our id) pairs.</summary>
    /// <summary>Enumeration by slot meets each of <paramref name="expected"/> once and nothing else.</summary>
    internal static void AssertEnumeratesExactly(AdjRibOut map, IEnumerable<Prefix> expected)
    {
        var enumerated = new HashSet<Prefix>();
        for (var i = 0; i < map.Capacity; i++)
        {
            if (map.IsUsed(i))
                Assert.True(enumerated.Add(map.PrefixAt(i)));
        }
        Assert.True(enumerated.SetEquals(expected));
    }

    private static List<(uint, uint)> Held(AdjRibOut map, Prefix prefix)
    {
        var one = default(PathOut);
        var held = new List<(uint, uint)>();
        var index = map.Find(prefix, AdjRibOut.Hash(prefix));
        if (index >= 0)
            Assert.Equal(prefix, map.PrefixAt(index));
        foreach (var p in map.PathsAt(index, ref one))
            held.Add((p.SourcePathId, p.Id));
        return held;
    }

    [Fact]
    public void Random_sets_and_removals_match_a_dictionary_and_every_key_stays_reachable()
    {
        var table = new RoutingTable();
        var source = new TestStatic(table);
        var map = new AdjRibOut();
        var model = new Dictionary<Prefix, List<(uint, uint)>>();
        var random = new Random(9);
        var peakCapacity = 0;
        // Grow to thousands of prefixes, then withdraw most of them (the shrink and the back shift).
        for (var step = 0; step < 60_000; step++)
        {
            var growing = step < 40_000;
            var n = random.Next(6000);
            var prefix = random.Next(4) == 0 ? V6(n) : V4(n);
            var count = growing ? (random.Next(10) == 0 ? 2 + random.Next(3) : random.Next(4) == 0 ? 0 : 1) : random.Next(8) == 0 ? 1 : 0;
            var paths = new PathOut[count];
            for (var k = 0; k < count; k++)
                paths[k] = new PathOut(new Route(prefix, Attrs, source, (uint)k), (uint)(k + 1), Attrs);
            var hash = AdjRibOut.Hash(prefix);
            map.Set(map.Find(prefix, hash), prefix, hash, paths);
            if (count == 0)
                model.Remove(prefix);
            else
                model[prefix] = [.. paths.Select(p => (p.SourcePathId, p.Id))];
            peakCapacity = Math.Max(peakCapacity, map.Capacity);
        }
        Assert.Equal(model.Count, map.Count);
        foreach (var (prefix, expected) in model)
            Assert.Equal(expected, Held(map, prefix));
        AssertEnumeratesExactly(map, model.Keys);
        // Prefixes removed are absent.
        for (var n = 0; n < 6000; n++)
        {
            if (!model.ContainsKey(V4(n)))
                Assert.Empty(Held(map, V4(n)));
        }
        // Most of the table withdrawn: the array shrinks, and what is left stays reachable.
        foreach (var prefix in model.Keys.Where((_, i) => i % 16 != 0).ToList())
        {
            var hash = AdjRibOut.Hash(prefix);
            map.Set(map.Find(prefix, hash), prefix, hash, []);
            model.Remove(prefix);
        }
        Assert.True(map.Capacity < peakCapacity, $"capacity {map.Capacity}, peak {peakCapacity}");
        Assert.Equal(model.Count, map.Count);
        foreach (var (prefix, expected) in model)
            Assert.Equal(expected, Held(map, prefix));
    }

    [Fact]
    public void Removing_everything_leaves_an_empty_map_that_takes_keys_again()
    {
        var table = new RoutingTable();
        var source = new TestStatic(table);
        var map = new AdjRibOut();
        for (var pass = 0; pass < 2; pass++)
        {
            for (var i = 0; i < 5000; i++)
            {
                var prefix = V4(i);
                var hash = AdjRibOut.Hash(prefix);
                map.Set(map.Find(prefix, hash), prefix, hash, [new PathOut(new Route(prefix, Attrs, source), 0, Attrs)]);
            }
            Assert.Equal(5000, map.Count);
            for (var i = 0; i < 5000; i++)
            {
                var prefix = V4(i);
                var hash = AdjRibOut.Hash(prefix);
                var index = map.Find(prefix, hash);
                Assert.True(index >= 0, $"{prefix} not found");
                map.Set(index, prefix, hash, []);
            }
            Assert.Equal(0, map.Count);
            Assert.True(map.Find(V4(1), AdjRibOut.Hash(V4(1))) < 0);
        }
    }
}
