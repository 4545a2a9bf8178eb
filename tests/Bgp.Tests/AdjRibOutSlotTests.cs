using System.Runtime.CompilerServices;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Export;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>
/// The Adj-RIB-Out's slot forms: the prefix inline per family, a lone path as the number of its kind
/// (source, source path id, attribute set), and the overflow form for the rest (ADD-PATH), checked against a dictionary.
/// </summary>
public class AdjRibOutSlotTests
{
    private static PathAttributes AttrsFor(int i) => new() { Source = RouteSource.Bgp, NextHop = IpAddr.FromV4(0xC0000200u + (uint)i), Med = (uint)i };

    private static PathAttributes V6AttrsFor(int i) => new() { Source = RouteSource.Bgp, NextHop = IpAddr.FromV6(((UInt128)0x20010DB8_0000FFFFUL << 64) + (uint)i) };

    /// <summary>Prefixes of every length of both families, host bits cleared as a table's are.</summary>
    private static Prefix RandomPrefix(Random random, bool v6)
    {
        if (!v6)
        {
            var length = random.Next(33);
            return Prefix.FromV4((uint)random.Next(64) << 24 | (uint)random.Next(), length);
        }
        var l6 = random.Next(129);
        return Prefix.FromV6(0x20010DB8_00000000UL | (uint)random.Next(16), ((ulong)(uint)random.Next(16) << 60) | (uint)random.Next(4), l6);
    }

    private readonly PrefixNumbers _numbers = new();

    private List<PathOut> Held(AdjRibOut map, Prefix prefix) => AdjRibOutTests.Held(map, prefix, _numbers);

    [Fact]
    public void Random_paths_of_many_sources_and_sets_match_a_dictionary_and_free_every_number_and_page_when_withdrawn()
    {
        var table = new RoutingTable();
        var sources = Enumerable.Range(0, 5).Select(_ => (Protocol)new TestStatic(table)).ToArray();
        var v4Sets = Enumerable.Range(0, 7).Select(AttrsFor).ToArray();
        var v6Sets = Enumerable.Range(0, 3).Select(V6AttrsFor).ToArray();
        var map = new AdjRibOut();
        var model = new Dictionary<Prefix, PathOut[]>();
        var random = new Random(77);
        for (var step = 0; step < 80_000; step++)
        {
            var prefix = RandomPrefix(random, random.Next(3) == 0);
            var sets = prefix.IsV6 ? v6Sets : v4Sets;
            // Mostly a lone best path (inline); sometimes none, several, our ids or a source path id (overflow).
            var count = step > 60_000 ? (random.Next(4) == 0 ? 1 : 0) : random.Next(10) switch { 0 => 0, 1 => 2 + random.Next(3), _ => 1 };
            var addPath = count > 1 || random.Next(8) == 0;
            var paths = new PathOut[count];
            for (var k = 0; k < count; k++)
            {
                var sourcePathId = random.Next(6) == 0 ? (uint)random.Next(1, 9) : 0;
                paths[k] = new PathOut(sources[random.Next(sources.Length)], sourcePathId, addPath ? (uint)(k + 1 + random.Next(2)) : 0, sets[random.Next(sets.Length)]);
            }
            Put(map, prefix, paths);
            if (count == 0)
                model.Remove(prefix);
            else
                model[prefix] = paths;
        }
        Assert.Equal(model.Count, map.Count);
        foreach (var (prefix, expected) in model)
            Assert.Equal(expected, Held(map, prefix));
        AdjRibOutTests.AssertEnumeratesExactly(map, model.Keys);
        Assert.True(map.OverflowCount > 0, "no prefix took the overflow form");
        Assert.True(map.OverflowCount < model.Count, "every prefix took the overflow form");

        foreach (var prefix in model.Keys)
            Put(map, prefix);
        Assert.Equal(0, map.Count);
        Assert.Equal(0, map.Pages);
        Assert.Equal(0, map.OverflowCount);
        Assert.Equal(0, map.Numbered);
    }

    [Fact]
    public void A_lone_path_per_family_is_kept_inline_as_its_kind()
    {
        var table = new RoutingTable();
        Protocol a = new TestStatic(table), b = new TestStatic(table);
        PathAttributes x = AttrsFor(1), y = AttrsFor(2), z = AttrsFor(3), x6 = V6AttrsFor(1), y6 = V6AttrsFor(2);
        var map = new AdjRibOut();
        var v4 = Prefix.Parse("10.1.2.0/24");
        var v4Host = Prefix.Parse("255.255.255.255/32");
        var v4Default = Prefix.Parse("0.0.0.0/0");
        var v6 = Prefix.Parse("2001:db8::/48");
        var v6Host = Prefix.Parse("2001:db8::ffff:ffff:ffff:ffff/128");
        Put(map, v4, new PathOut(a, 7, 0, x));
        Put(map, v4Host, new PathOut(b, 0, 0, y));
        Put(map, v4Default, new PathOut(a, 0, 0, x));
        Put(map, v6, new PathOut(b, 0, 0, x6));
        Put(map, v6Host, new PathOut(a, 0, 0, x6));
        Assert.Equal(0, map.OverflowCount);
        // One number per source, source path id and set: five kinds.
        Assert.Equal(5, map.Numbered);
        Assert.Equal([new PathOut(a, 7, 0, x)], Held(map, v4));
        Assert.Equal([new PathOut(b, 0, 0, y)], Held(map, v4Host));
        Assert.Equal([new PathOut(a, 0, 0, x)], Held(map, v4Default));
        Assert.Equal([new PathOut(b, 0, 0, x6)], Held(map, v6));
        Assert.Equal([new PathOut(a, 0, 0, x6)], Held(map, v6Host));
        // /24 and /25 of one address, IPv4 and IPv6 of the same words: different keys.
        Assert.Empty(Held(map, Prefix.Parse("10.1.2.0/25")));
        Assert.Empty(Held(map, Prefix.Parse("::/0")));
        Assert.Empty(Held(map, Prefix.Parse("::/48")));

        // Our id 1 (an ADD-PATH group's first) stays inline in both families.
        Put(map, v4Default, new PathOut(a, 0, 1, x));
        Put(map, v6Host, new PathOut(a, 0, 1, x6));
        Assert.Equal(0, map.OverflowCount);
        Assert.Equal([new PathOut(a, 0, 1, x)], Held(map, v4Default));
        Assert.Equal([new PathOut(a, 0, 1, x6)], Held(map, v6Host));
        // A source path id is part of the kind, in either family; a higher id of ours has no room inline.
        Put(map, v6, new PathOut(b, 3, 0, x6));
        Put(map, v4, new PathOut(a, 7, 2, x));
        Assert.Equal(1, map.OverflowCount);
        Assert.Equal([new PathOut(b, 3, 0, x6)], Held(map, v6));
        Assert.Equal([new PathOut(a, 7, 2, x)], Held(map, v4));
        // Several paths replace the overflow entry's; back to one without ids: inline again, the entries given back.
        Put(map, v4, new PathOut(a, 7, 1, x), new PathOut(b, 0, 2, y));
        Assert.Equal([new PathOut(a, 7, 1, x), new PathOut(b, 0, 2, y)], Held(map, v4));
        Put(map, v6, new PathOut(a, 0, 0, y6));
        Put(map, v4, new PathOut(b, 0, 0, z));
        Assert.Equal(0, map.OverflowCount);
        Assert.Equal([new PathOut(a, 0, 0, y6)], Held(map, v6));
        Assert.Equal([new PathOut(b, 0, 0, z)], Held(map, v4));
        Assert.Equal(5, map.Numbered);
        // The last slot with y takes z: y is no longer numbered.
        Put(map, v4Host, new PathOut(b, 0, 0, z));
        Assert.Equal(4, map.Numbered);
    }

    [Fact]
    public void A_slot_is_8_bytes_for_IPv4_and_20_for_IPv6_and_holds_numbers_up_to_its_width()
    {
        Assert.Equal(8, Unsafe.SizeOf<V4Slot>());
        Assert.Equal(20, Unsafe.SizeOf<V6Slot>());
        var v4 = Prefix.Parse("255.255.255.255/32");
        var v6 = Prefix.Parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
        Assert.True(V4Slot.TryInline(v4, V4Slot.MaxPayload, 1, out var s4));
        Assert.True(V6Slot.TryInline(v6, V6Slot.MaxPayload, 1, out var s6));
        Assert.Equal((v4, V4Slot.MaxPayload, 1u, false), (s4.Prefix, s4.Payload, s4.Id, s4.IsOverflow));
        Assert.Equal((v6, V6Slot.MaxPayload, 1u, false), (s6.Prefix, s6.Payload, s6.Id, s6.IsOverflow));
        Assert.True(s4.Holds(v4) && s6.Holds(v6));
        Assert.False(V4Slot.TryInline(v4, V4Slot.MaxPayload + 1, 0, out _));
        Assert.False(V6Slot.TryInline(v6, V6Slot.MaxPayload + 1, 0, out _));
        Assert.False(V4Slot.TryInline(v4, 0, 2, out _));
        var o4 = V4Slot.Overflow(v4, (uint)AdjRibOut.MaxOverflowEntry);
        var o6 = V6Slot.Overflow(v6, (uint)AdjRibOut.MaxOverflowEntry);
        Assert.Equal((true, true, (uint)AdjRibOut.MaxOverflowEntry), (o4.IsUsed, o4.IsOverflow, o4.Payload));
        Assert.Equal((true, true, (uint)AdjRibOut.MaxOverflowEntry), (o6.IsUsed, o6.IsOverflow, o6.Payload));
        Assert.Equal(v6, o6.Prefix);
        Assert.Throws<ArgumentOutOfRangeException>(() => V6Slot.Overflow(v6, (uint)AdjRibOut.MaxOverflowEntry + 1));
    }

    private void Put(AdjRibOut map, Prefix prefix, params PathOut[] paths) =>
        map.Set(AdjRibOut.IndexOf(prefix, _numbers.Of(prefix)), prefix, paths);
}
