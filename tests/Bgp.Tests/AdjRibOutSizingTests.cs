using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Export;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>
/// The Adj-RIB-Out's one probe per change (a miss returns the free slot that <see cref="AdjRibOut.Set"/>
/// fills) and its sizing from what the group expects (<see cref="AdjRibOut.ExpectedCount"/>,
/// <see cref="AdjRibOut.Reserve"/>): fewer rebuilds, every prefix still found, the array no emptier
/// than the usual growth leaves it.
/// </summary>
public class AdjRibOutSizingTests
{
    private const int Prefixes = 100_000;

    private static readonly PathAttributes Attrs = new() { Source = RouteSource.Bgp, NextHop = IpAddr.Parse("192.0.2.1") };

    private static Prefix V4(int i) => new(IpAddr.FromV4(0x0A000000u + ((uint)i << 8)), 24);

    /// <summary>Fills <paramref name="map"/> as the group does (Find, then Set with its answer) and checks every prefix afterwards.</summary>
    private static void FillAndCheck(AdjRibOut map, int count, Func<int, int>? expected = null)
    {
        var source = new TestStatic(new RoutingTable());
        var routes = new Route[count];
        for (var i = 0; i < count; i++)
        {
            var prefix = V4(i);
            var hash = AdjRibOut.Hash(prefix);
            if (expected is not null)
                map.ExpectedCount = expected(i);
            var index = map.Find(prefix, hash);
            Assert.True(index < 0, $"{prefix} found before it was set");
            routes[i] = new Route(prefix, Attrs, source);
            map.Set(index, prefix, hash, [new PathOut(routes[i], 0, Attrs)]);
        }
        Assert.Equal(count, map.Count);
        var one = default(PathOut);
        for (var i = 0; i < count; i++)
        {
            var prefix = V4(i);
            var index = map.Find(prefix, AdjRibOut.Hash(prefix));
            Assert.True(index >= 0, $"{prefix} lost");
            var held = map.PathsAt(index, ref one);
            Assert.Equal(1, held.Length);
            Assert.Same(routes[i], held[0].Route);
        }
    }

    [Fact]
    public void A_miss_returns_a_free_slot_and_setting_there_finds_the_prefix_again()
    {
        var source = new TestStatic(new RoutingTable());
        var map = new AdjRibOut();
        var prefix = V4(7);
        var hash = AdjRibOut.Hash(prefix);
        var free = map.Find(prefix, hash);
        Assert.True(free < 0);
        Assert.False(map.IsUsed(~free));
        map.Set(free, prefix, hash, [new PathOut(new Route(prefix, Attrs, source), 0, Attrs)]);
        Assert.Equal(~free, map.Find(prefix, hash));
        Assert.True(map.IsUsed(~free));
        Assert.Equal(prefix, map.PrefixAt(~free));
    }

    [Fact]
    public void Without_an_expectation_the_map_grows_by_half_steps()
    {
        var map = new AdjRibOut();
        FillAndCheck(map, Prefixes);
        // 16 slots to 100k at 75 % load, ×1.5 a step: about twenty arrays.
        Assert.InRange(map.Rebuilds, 18, 30);
        Assert.InRange((double)map.Count / map.Capacity, 0.5, 0.75);
    }

    [Fact]
    public void Expecting_the_table_s_size_takes_few_rebuilds_and_fills_the_array_as_much()
    {
        // The table it mirrors is ahead of it (a group catching up): the group's estimate is the final size.
        var map = new AdjRibOut();
        FillAndCheck(map, Prefixes, _ => Prefixes);
        // Each growth goes at most four times past the prefixes held: 16 to 100k in about six steps.
        Assert.InRange(map.Rebuilds, 1, 8);
        Assert.InRange((double)map.Count / map.Capacity, 0.5, 0.75);
    }

    [Fact]
    public void An_expectation_far_too_high_costs_at_most_four_times_the_prefixes_in_room()
    {
        var map = new AdjRibOut();
        FillAndCheck(map, 1000, _ => 10_000_000);
        Assert.True(map.Capacity <= 4 * 1000 / 0.7 + 16, $"capacity {map.Capacity} for 1000 prefixes");
    }

    [Fact]
    public void Reserve_makes_room_for_a_resync_at_once()
    {
        var map = new AdjRibOut();
        map.Reserve(Prefixes);
        Assert.Equal(1, map.Rebuilds);
        FillAndCheck(map, Prefixes);
        Assert.Equal(1, map.Rebuilds);
        Assert.InRange((double)map.Count / map.Capacity, 0.5, 0.75);
    }
}
