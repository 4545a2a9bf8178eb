using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Export;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>The update group's Adj-RIB-Out, indexed by the table's prefix numbers, checked against a dictionary doing the same operations.</summary>
public class AdjRibOutTests
{
    private static readonly PathAttributes Attrs = new() { Source = RouteSource.Bgp, NextHop = IpAddr.Parse("192.0.2.1") };

    private static Prefix V4(int i) => new(IpAddr.FromV4(0x0A000000u + ((uint)i << 8)), 24);

    private static Prefix V6(int i) => new(IpAddr.FromV6(((UInt128)0x20010DB8_00000000UL << 64) + ((UInt128)(ulong)i << 80)), 48);

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

    /// <summary>The paths <paramref name="map"/> holds for <paramref name="prefix"/> under its number.</summary>
    internal static List<PathOut> Held(AdjRibOut map, Prefix prefix, PrefixNumbers numbers)
    {
        var one = default(PathOut);
        var index = AdjRibOut.IndexOf(prefix, numbers.Of(prefix));
        if (!map.IsUsed(index))
            return [];
        Assert.True(map.Holds(index, prefix));
        Assert.Equal(prefix, map.PrefixAt(index));
        return [.. map.PathsAt(index, ref one)];
    }

    [Fact]
    public void Random_sets_and_removals_match_a_dictionary_and_an_emptied_map_gives_its_pages_back()
    {
        var source = new TestStatic(new RoutingTable());
        var numbers = new PrefixNumbers();
        using var map = new AdjRibOut();
        var model = new Dictionary<Prefix, List<(uint, uint)>>();
        var random = new Random(9);
        for (var step = 0; step < 60_000; step++)
        {
            var growing = step < 40_000;
            var n = random.Next(20_000);
            var prefix = random.Next(4) == 0 ? V6(n) : V4(n);
            var count = growing ? (random.Next(10) == 0 ? 2 + random.Next(3) : random.Next(4) == 0 ? 0 : 1) : random.Next(8) == 0 ? 1 : 0;
            var paths = new PathOut[count];
            for (var k = 0; k < count; k++)
                paths[k] = new PathOut(Route.Create(prefix, Attrs, source, (uint)k), (uint)(k + 1), Attrs);
            map.Set(AdjRibOut.IndexOf(prefix, numbers.Of(prefix)), prefix, paths);
            if (count == 0)
                model.Remove(prefix);
            else
                model[prefix] = [.. paths.Select(p => (p.SourcePathId, p.Id))];
        }
        Assert.Equal(model.Count, map.Count);
        foreach (var (prefix, expected) in model)
            Assert.Equal(expected, Held(map, prefix, numbers).Select(p => (p.SourcePathId, p.Id)));
        AssertEnumeratesExactly(map, model.Keys);
        for (var n = 0; n < 20_000; n++)
        {
            if (!model.ContainsKey(V4(n)))
                Assert.Empty(Held(map, V4(n), numbers));
        }
        Assert.True(map.Pages > 0);
        foreach (var prefix in model.Keys.ToList())
        {
            map.Set(AdjRibOut.IndexOf(prefix, numbers.Of(prefix)), prefix, []);
            model.Remove(prefix);
        }
        Assert.Equal(0, map.Count);
        Assert.Equal(0, map.Pages);
        Assert.Equal(0, map.OverflowCount);
        Assert.Equal(0, map.Numbered);
    }

    [Fact]
    public void A_slot_refuses_another_prefix_and_the_other_family()
    {
        var source = new TestStatic(new RoutingTable());
        using var map = new AdjRibOut();
        var path = new PathOut(source, 0, 0, Attrs);
        var index = AdjRibOut.IndexOf(V4(1), 5);
        map.Set(index, V4(1), [path]);
        Assert.True(map.Holds(index, V4(1)));
        Assert.False(map.Holds(index, V4(2)));
        // The number taken over by another prefix: the old one has to be withdrawn first.
        Assert.Throws<InvalidOperationException>(() => map.Set(index, V4(2), [path]));
        Assert.Throws<ArgumentException>(() => map.Set(index, V6(1), [path]));
        // The same number's IPv6 slot is a slot of its own.
        Assert.False(map.IsUsed(AdjRibOut.IndexOf(V6(1), 5)));
        Assert.Equal(index, map.StaleSlot(index, V4(2)));
        Assert.Equal(-1, map.StaleSlot(index, V4(1)));
        // The IPv6 slot of the same number sees the IPv4 one as stale, and the other way round.
        Assert.Equal(index, map.StaleSlot(AdjRibOut.IndexOf(V6(1), 5), V6(1)));
        map.Set(index, V4(1), []);
        map.Set(index, V4(2), [path]);
        Assert.True(map.Holds(index, V4(2)));
        map.Set(index, V4(2), []);
        map.Set(AdjRibOut.IndexOf(V6(1), 5), V6(1), [path]);
        Assert.Equal(AdjRibOut.IndexOf(V6(1), 5), map.StaleSlot(index, V4(2)));
        Assert.Equal(-1, map.StaleSlot(AdjRibOut.IndexOf(V6(1), 5), V6(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => AdjRibOut.IndexOf(V4(1), int.MaxValue));
    }

    [Fact]
    public void Numbers_far_apart_make_only_the_pages_they_touch()
    {
        var source = new TestStatic(new RoutingTable());
        using var map = new AdjRibOut();
        var path = new PathOut(source, 0, 0, Attrs);
        map.Set(AdjRibOut.IndexOf(V4(1), 3), V4(1), [path]);
        map.Set(AdjRibOut.IndexOf(V4(2), 1_000_000), V4(2), [path]);
        map.Set(AdjRibOut.IndexOf(V6(3), 1_000_001), V6(3), [path]);
        Assert.Equal(3, map.Pages);
        Assert.Equal(3, map.Count);
        AssertEnumeratesExactly(map, [V4(1), V4(2), V6(3)]);
        map.Set(AdjRibOut.IndexOf(V4(2), 1_000_000), V4(2), []);
        Assert.Equal(2, map.Pages);
        AssertEnumeratesExactly(map, [V4(1), V6(3)]);
    }
}
