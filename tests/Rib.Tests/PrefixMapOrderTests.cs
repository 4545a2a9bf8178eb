using Calico.Bgp.Rib;

namespace Calico.Bgp.Rib.Tests;

/// <summary>
/// The map's homes follow an order it keeps while it only grows (a table arriving), so a growing
/// rebuild writes the new array in the old one's order; any rebuild after removals takes a new order.
/// </summary>
public class PrefixMapOrderTests
{
    private readonly RoutingTable _owner = new();
    private readonly TestProtocol _protocol;
    private long _version;

    public PrefixMapOrderTests() => _protocol = new TestProtocol("p", _owner);

    private static Prefix V4(int i) => new(IpAddr.FromV4(0x0A000000u + ((uint)i << 8)), 24);

    private RouteEntry Entry(Prefix prefix) => RouteEntry.Seal(prefix, Route.Create(prefix, PathAttributes.Empty, _protocol), ++_version);

    /// <summary>
    /// Of the entries that follow each other in <paramref name="before"/>'s slot order, the share that
    /// are still near each other (within 64 entries) now: a rebuild in the old order writes each entry
    /// close after the one before; in a new order only the four neighbours that share a home stay together.
    /// </summary>
    private static double KeptOrder(PrefixMap map, List<Prefix> before)
    {
        var position = new Dictionary<Prefix, int>();
        foreach (var e in map.Entries())
            position[e.Prefix] = position.Count;
        var kept = 0;
        for (var i = 1; i < before.Count; i++)
        {
            if (Math.Abs(position[before[i]] - position[before[i - 1]]) <= 64)
                kept++;
        }
        return (double)kept / (before.Count - 1);
    }

    /// <summary>A map grown past a few thousand cells (in a tiny array the run that wraps is a big share); returns the next key.</summary>
    private int Grown(PrefixMap map)
    {
        var next = 0;
        while (map.Capacity < 4096)
            next = FillUntilRebuilt(map, next);
        return next;
    }

    /// <summary>Adds entries from <paramref name="next"/> on until the array is rebuilt; returns where it stopped.</summary>
    private int FillUntilRebuilt(PrefixMap map, int next)
    {
        var capacity = map.Capacity;
        while (map.Capacity == capacity)
            map.Set(Entry(V4(next++)));
        return next;
    }

    [Fact]
    public void Growing_keeps_the_slot_order_of_the_entries()
    {
        var map = new PrefixMap();
        var next = Grown(map);
        for (var step = 0; step < 4; step++)
        {
            var before = map.Entries().Select(e => e.Prefix).ToList();
            next = FillUntilRebuilt(map, next);
            // Only the run that wraps past the array's end may come out elsewhere.
            Assert.InRange(KeptOrder(map, before), 0.99, 1.0);
        }
        Assert.Equal(next, map.Count);
        for (var i = 0; i < next; i++)
            Assert.Equal(V4(i), map.Find(V4(i))!.Prefix);
    }

    [Fact]
    public void Growing_after_removals_takes_a_new_order_and_keeps_every_entry()
    {
        var map = new PrefixMap();
        var next = Grown(map);
        // A few removals leave tombstones; the next growth must not keep the order the removals may
        // have left uneven.
        var removedBelow = next;
        for (var i = 0; i < removedBelow; i += 50)
            Assert.True(map.Remove(RouteEntry.Seal(V4(i), null, ++_version)));
        var before = map.Entries().Select(e => e.Prefix).ToList();
        next = FillUntilRebuilt(map, next);
        Assert.InRange(KeptOrder(map, before), 0.0, 0.9);
        for (var i = 0; i < next; i++)
            Assert.Equal(i % 50 != 0 || i >= removedBelow, map.Find(V4(i)) is not null);
    }
}
