using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Export;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>
/// The Adj-RIB-Out's one probe per change (a miss returns the free slot that <see cref="AdjRibOut.Set"/>
/// fills) and <see cref="AdjRibOut.Reserve"/> for a resync: every prefix still found, the array no
/// emptier than the usual growth leaves it.
/// </summary>
public class AdjRibOutSizingTests
{
    private const int Prefixes = 100_000;

    private static readonly PathAttributes Attrs = new() { Source = RouteSource.Bgp, NextHop = IpAddr.Parse("192.0.2.1") };

    private static Prefix V4(int i) => new(IpAddr.FromV4(0x0A000000u + ((uint)i << 8)), 24);

    /// <summary>Fills <paramref name="map"/> as the group does (Find, then Set with its answer) and checks every prefix afterwards.</summary>
    private static void FillAndCheck(AdjRibOut map, int count)
    {
        var source = new TestStatic(new RoutingTable());
        var routes = new Route[count];
        for (var i = 0; i < count; i++)
        {
            var prefix = V4(i);
            var hash = AdjRibOut.Hash(prefix);
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
            Assert.Same(routes[i].Protocol, held[0].Source);
            Assert.Same(Attrs, held[0].Attributes);
        }
    }

    [Fact]
    public void A_miss_returns_a_free_slot_and_setting_there_finds_the_prefix_again()
    {
        var source = new TestStatic(new RoutingTable());
        var map = new AdjRibOut();
        // Room made first: an insert that grows its shard probes the new array again.
        map.Reserve(10_000, 0);
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
    public void Growing_by_half_steps_moves_each_prefix_at_most_a_few_times_and_keeps_the_load()
    {
        var map = new AdjRibOut();
        FillAndCheck(map, Prefixes);
        Assert.InRange(map.RebuildMoves, Prefixes / 2, 3L * Prefixes);
        Assert.InRange((double)map.Count / map.Capacity, 0.5, 0.75);
        // The worst probe stays as short as one array's was (AdjRibOutEmptyingTests' bound).
        Assert.True(map.LongestRun() < 1000, $"longest run {map.LongestRun()}");
    }

    [Fact]
    public void Reserve_makes_room_for_a_resync_at_once()
    {
        var map = new AdjRibOut();
        map.Reserve(Prefixes, 0);
        Assert.Equal(1, map.Rebuilds);
        Assert.Equal(0, map.RebuildMoves);
        FillAndCheck(map, Prefixes);
        Assert.Equal(1, map.Rebuilds);
        Assert.Equal(0, map.RebuildMoves);
        Assert.InRange((double)map.Count / map.Capacity, 0.5, 0.75);
    }
}
