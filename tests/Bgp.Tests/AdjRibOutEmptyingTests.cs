using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Export;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>
/// A big Adj-RIB-Out filled and emptied in the orders a withdrawal comes in: after every shrinking
/// rebuild each prefix still held is found with its paths, and the slot order of one array size
/// (a resync's order) leaves no long run in the next.
/// </summary>
public class AdjRibOutEmptyingTests
{
    private const int Prefixes = 120_000;

    private static readonly PathAttributes Attrs = new() { Source = RouteSource.Bgp, NextHop = IpAddr.Parse("192.0.2.1") };

    /// <summary>Mostly /24 of 10/8 onwards (four neighbours share a home), every tenth an IPv6 /48.</summary>
    private static Prefix PrefixAt(int i) => i % 10 == 9
        ? new(IpAddr.FromV6(((UInt128)0x20010DB8_00000000UL << 64) + ((UInt128)(ulong)i << 80)), 48)
        : new(IpAddr.FromV4(0x0A000000u + ((uint)i << 8)), 24);

    /// <summary>Every seventh prefix has two paths (ADD-PATH: an array), the rest one (kept in the slot).</summary>
    private static PathOut[] PathsFor(Prefix prefix, int i, Protocol source) => i % 7 == 0
        ? [new PathOut(new Route(prefix, Attrs, source, 1), 1, Attrs), new PathOut(new Route(prefix, Attrs, source, 2), 2, Attrs)]
        : [new PathOut(new Route(prefix, Attrs, source), (uint)i, Attrs)];

    public static TheoryData<string> Orders => ["Ascending", "Descending", "SlotOrder", "Random", "Interleaved"];

    [Theory]
    [MemberData(nameof(Orders))]
    public void Emptying_in_any_order_keeps_every_remaining_prefix_reachable_and_ends_empty(string order)
    {
        var source = new TestStatic(new RoutingTable());
        var map = new AdjRibOut();
        var prefixes = new Prefix[Prefixes];
        var paths = new PathOut[Prefixes][];
        for (var i = 0; i < Prefixes; i++)
        {
            prefixes[i] = PrefixAt(i);
            paths[i] = PathsFor(prefixes[i], i, source);
            var hash = AdjRibOut.Hash(prefixes[i]);
            var free = map.Find(prefixes[i], hash);
            Assert.True(free < 0, $"{prefixes[i]} found before it was set");
            map.Set(free, prefixes[i], hash, paths[i]);
        }
        Assert.Equal(Prefixes, map.Count);
        var fullCapacity = map.Capacity;

        var removal = Order(order, map, prefixes);
        Assert.Equal(Prefixes, removal.Length);
        var removed = new bool[Prefixes];
        var capacity = map.Capacity;
        var shrinks = 0;
        for (var k = 0; k < removal.Length; k++)
        {
            var i = removal[k];
            var hash = AdjRibOut.Hash(prefixes[i]);
            var index = map.Find(prefixes[i], hash);
            Assert.True(index >= 0, $"{prefixes[i]} not found before its removal ({k} removed)");
            map.Set(index, prefixes[i], hash, []);
            removed[i] = true;
            Assert.Equal(Prefixes - k - 1, map.Count);
            Assert.True(map.Find(prefixes[i], hash) < 0);
            if (map.Capacity == capacity)
                continue;
            // A shrinking rebuild: everything left is still there, with its paths.
            shrinks++;
            capacity = map.Capacity;
            for (var j = 0; j < Prefixes; j++)
            {
                if (!removed[j])
                    AssertHeld(map, prefixes[j], paths[j]);
            }
            // The runs stay short whatever order the last array's prefixes left in (one shared
            // order made this run as long as a quarter of what was left).
            Assert.True(map.LongestRun() < 1000, $"longest run {map.LongestRun()} of {map.Capacity} slots, {map.Count} left");
        }
        Assert.True(shrinks >= 3, $"{shrinks} shrinks from {fullCapacity} slots to {map.Capacity}");
        Assert.Equal(0, map.Count);
        Assert.True(map.Capacity < fullCapacity / 100, $"capacity {map.Capacity} of {fullCapacity}");
        for (var s = 0; s < map.Capacity; s++)
            Assert.False(map.IsUsed(s));
        foreach (var prefix in prefixes.Where((_, i) => i % 997 == 0))
            Assert.True(map.Find(prefix, AdjRibOut.Hash(prefix)) < 0);

        // The emptied map takes the table again.
        for (var i = 0; i < Prefixes; i += 3)
        {
            var hash = AdjRibOut.Hash(prefixes[i]);
            map.Set(map.Find(prefixes[i], hash), prefixes[i], hash, paths[i]);
        }
        for (var i = 0; i < Prefixes; i++)
        {
            if (i % 3 == 0)
                AssertHeld(map, prefixes[i], paths[i]);
            else
                Assert.True(map.Find(prefixes[i], AdjRibOut.Hash(prefixes[i])) < 0);
        }
    }

    /// <summary>Indexes into <paramref name="prefixes"/> in the order they are withdrawn.</summary>
    private static int[] Order(string order, AdjRibOut map, Prefix[] prefixes)
    {
        var all = Enumerable.Range(0, prefixes.Length);
        var random = new Random(11);
        switch (order)
        {
            case "Ascending":
                return [.. all];
            case "Descending":
                return [.. all.Reverse()];
            case "Random":
                return [.. all.OrderBy(_ => random.Next())];
            case "Interleaved":
                // Every other prefix first (one of each neighbour pair), then the rest backwards.
                return [.. all.Where(i => i % 2 == 0), .. all.Where(i => i % 2 == 1).Reverse()];
            default:
                // The full map's slot order, as a resync collects the prefixes that are gone.
                var at = new Dictionary<Prefix, int>(prefixes.Length);
                for (var i = 0; i < prefixes.Length; i++)
                    at[prefixes[i]] = i;
                var slots = new List<int>(prefixes.Length);
                for (var s = 0; s < map.Capacity; s++)
                {
                    if (map.IsUsed(s))
                        slots.Add(at[map.PrefixAt(s)]);
                }
                return [.. slots];
        }
    }

    private static void AssertHeld(AdjRibOut map, Prefix prefix, PathOut[] expected)
    {
        var index = map.Find(prefix, AdjRibOut.Hash(prefix));
        Assert.True(index >= 0, $"{prefix} lost");
        Assert.Equal(prefix, map.PrefixAt(index));
        var one = default(PathOut);
        var held = map.PathsAt(index, ref one);
        Assert.Equal(expected.Length, held.Length);
        for (var k = 0; k < expected.Length; k++)
        {
            Assert.Same(expected[k].Source, held[k].Source);
            Assert.Equal(expected[k].SourcePathId, held[k].SourcePathId);
            Assert.Same(expected[k].Attributes, held[k].Attributes);
            Assert.Equal(expected[k].Id, held[k].Id);
        }
    }
}
