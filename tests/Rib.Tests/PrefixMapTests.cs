using Calico.Bgp.Rib;

namespace Calico.Bgp.Rib.Tests;

public class PrefixMapTests
{
    private readonly RoutingTable _owner = new();
    private readonly TestProtocol _protocol;
    private readonly PathAttributes _attrs = PathAttributes.Empty;
    private long _version;

    public PrefixMapTests() => _protocol = new TestProtocol("p", _owner);

    private static Prefix V4(int i) => new(IpAddr.FromV4(0x0A000000u + ((uint)i << 8)), 24);

    private RouteEntry Entry(Prefix prefix) => RouteEntry.Seal(prefix, Route.Create(prefix, _attrs, _protocol), ++_version);

    /// <summary>The removal of <paramref name="prefix"/> as the table makes it: an empty entry that is also the tombstone.</summary>
    private RouteEntry Gone(Prefix prefix) => RouteEntry.Seal(prefix, null, ++_version);

    [Fact]
    public void Set_finds_replaces_and_removes_by_the_entrys_own_prefix()
    {
        var map = new PrefixMap();
        var a = Entry(V4(1));
        map.Set(a);
        Assert.Same(a, map.Find(V4(1)));
        Assert.Null(map.Find(V4(2)));

        var a2 = Entry(V4(1));
        map.Set(a2);
        Assert.Same(a2, map.Find(V4(1)));
        Assert.Equal(1, map.Count);

        Assert.True(map.Remove(Gone(V4(1))));
        Assert.False(map.Remove(Gone(V4(1))));
        Assert.Null(map.Find(V4(1)));
        Assert.Equal(0, map.Count);
        Assert.Empty(map.Entries());
    }

    [Fact]
    public void A_removed_prefix_comes_back_into_its_own_slot()
    {
        var map = new PrefixMap();
        for (var i = 0; i < 10; i++)
            map.Set(Entry(V4(i)));
        var capacity = map.Capacity;
        for (var round = 0; round < 1000; round++)
        {
            Assert.True(map.Remove(Gone(V4(round % 10))));
            map.Set(Entry(V4(round % 10)));
        }
        // Re-adding takes back the key's tombstone, so churn on the same keys never grows the array.
        Assert.Equal(capacity, map.Capacity);
        Assert.Equal(10, map.Count);
        Assert.Equal(10, map.Entries().Select(e => e.Prefix).Distinct().Count());
    }

    [Fact]
    public void Growing_keeps_every_entry_and_the_load_below_three_quarters()
    {
        var map = new PrefixMap();
        var entries = Enumerable.Range(0, 100_000).Select(i => Entry(V4(i))).ToArray();
        foreach (var e in entries)
        {
            map.Set(e);
            Assert.True(map.Count <= map.Capacity * 0.75);
        }
        Assert.Equal(entries.Length, map.Count);
        Assert.InRange(map.Capacity, entries.Length / 0.75, entries.Length / 0.5 + 1);
        foreach (var e in entries)
            Assert.Same(e, map.Find(e.Prefix));
        Assert.Equal(entries.Length, map.Entries().Count());
    }

    [Fact]
    public void Withdrawing_most_prefixes_gives_the_array_back()
    {
        var map = new PrefixMap();
        for (var i = 0; i < 20_000; i++)
            map.Set(Entry(V4(i)));
        var full = map.Capacity;
        for (var i = 100; i < 20_000; i++)
            Assert.True(map.Remove(Gone(V4(i))));
        Assert.Equal(100, map.Count);
        Assert.True(map.Capacity < full / 10, $"capacity {map.Capacity} of {full}");
        for (var i = 0; i < 100; i++)
            Assert.NotNull(map.Find(V4(i)));
        Assert.Null(map.Find(V4(100)));
    }

    [Fact]
    public void V4_and_v6_defaults_and_mapped_addresses_are_separate_keys()
    {
        var map = new PrefixMap();
        Prefix[] keys =
        [
            Prefix.Parse("0.0.0.0/0"), Prefix.Parse("::/0"), Prefix.Parse("1.2.3.4/32"),
            Prefix.Parse("::ffff:1.2.3.4/128"), Prefix.Parse("::102:304/128"), Prefix.Parse("0.0.0.0/32"), Prefix.Parse("::/128"),
        ];
        var entries = keys.Select(Entry).ToArray();
        foreach (var e in entries)
            map.Set(e);
        for (var i = 0; i < keys.Length; i++)
            Assert.Same(entries[i], map.Find(keys[i]));
        Assert.True(map.Remove(Gone(Prefix.Parse("::/0"))));
        Assert.Same(entries[0], map.Find(Prefix.Parse("0.0.0.0/0")));
        Assert.Null(map.Find(Prefix.Parse("::/0")));
    }

    /// <summary>A map holding 2,000 entries no writer touches: what concurrent readers check against.</summary>
    private (PrefixMap Map, RouteEntry[] Stable) MapWithStableEntries()
    {
        var map = new PrefixMap();
        var stable = Enumerable.Range(0, 2_000).Select(i => Entry(V4(i))).ToArray();
        foreach (var e in stable)
            map.Set(e);
        return (map, stable);
    }

    [Fact]
    public async Task Readers_never_miss_a_stable_entry_while_the_writer_grows_removes_and_rebuilds()
    {
        var (map, stable) = MapWithStableEntries();
        var churn = Enumerable.Range(1_000_000, 40_000).Select(i => Entry(V4(i))).ToArray();
        using var readers = new Readers(map, stable);
        var rebuilds = 0;
        // Two rounds of fill-then-empty: growth by rebuilds on the way up, shrinking ones on the way down,
        // and removals and re-adds of the same keys (tombstones taken back) in between.
        for (var round = 0; round < 2; round++)
        {
            var capacity = map.Capacity;
            foreach (var e in churn)
            {
                map.Set(e);
                if (map.Capacity != capacity)
                {
                    rebuilds++;
                    capacity = map.Capacity;
                }
            }
            for (var i = 0; i < churn.Length; i += 2)
            {
                map.Remove(Gone(churn[i].Prefix));
                map.Set(churn[i]);
            }
            foreach (var e in churn)
            {
                map.Remove(Gone(e.Prefix));
                if (map.Capacity != capacity)
                {
                    rebuilds++;
                    capacity = map.Capacity;
                }
            }
        }
        Assert.Empty(await readers.StopAsync());
        Assert.True(rebuilds > 10, $"only {rebuilds} rebuilds");
        Assert.Equal(stable.Length, map.Count);
    }

    [Fact]
    public async Task Readers_never_miss_a_stable_entry_while_arrays_big_enough_to_give_back_are_replaced()
    {
        var (map, stable) = MapWithStableEntries();
        // Enough keys that the arrays grown through (and shrunk back from) give their pages back.
        var churn = Enumerable.Range(1_000_000, 160_000).Select(i => Entry(V4(i))).ToArray();
        using var readers = new Readers(map, stable);
        for (var round = 0; round < 2; round++)
        {
            foreach (var e in churn)
                map.Set(e);
            Assert.True(map.Capacity > CellArray.MappedCells);
            foreach (var e in churn)
                map.Remove(Gone(e.Prefix));
        }
        Assert.Empty(await readers.StopAsync());
        Assert.True(map.ArraysGivenBack >= 2, $"{map.ArraysGivenBack} arrays given back");
        Assert.Equal(stable.Length, map.Count);
        Assert.All(stable, e => Assert.Same(e, map.Find(e.Prefix)));
    }

    [Fact]
    public void A_replaced_array_gives_its_pages_back_at_once_or_when_its_last_enumeration_ends()
    {
        var map = new PrefixMap();
        var i = 0;
        void GrowPast(int capacity)
        {
            while (map.Capacity <= capacity)
                map.Set(Entry(V4(i++)));
        }
        static int Used(CellArray cells) => cells.ToArray().Count(c => c != 0);

        GrowPast(CellArray.MappedCells - 1);
        var first = map.CurrentCells;
        var reader = map.LayoutForTests; // a reader that took the array and is still probing it
        Assert.True(first.Length >= CellArray.MappedCells);
        var used = Used(first);
        var before = i;
        GrowPast(first.Length);
        Assert.NotSame(first, map.CurrentCells);
        Assert.True(Used(first) == 0, $"{Used(first)} of {used} cells still there");
        Assert.Equal(1, map.ArraysGivenBack);
        // It reads empty cells where its keys were, and finds them in the array that replaced it.
        for (var k = 0; k < before; k++)
            Assert.NotNull(map.FindFrom(reader, V4(k)));
        Assert.Null(map.FindFrom(reader, V4(i + 1)));

        // An enumeration still walking the array keeps it until it ends, and meets every key the map
        // had when it began (a key added meanwhile may or may not be met: it may land behind the walk).
        var second = map.CurrentCells;
        var had = i;
        using (var walk = map.Entries().GetEnumerator())
        {
            Assert.True(walk.MoveNext());
            var met = new HashSet<Prefix> { walk.Current.Prefix };
            GrowPast(second.Length);
            Assert.Equal(1, map.ArraysGivenBack);
            Assert.True(Used(second) > 0);
            while (walk.MoveNext())
                Assert.True(met.Add(walk.Current.Prefix), $"{walk.Current.Prefix} met twice");
            Assert.All(Enumerable.Range(0, had), k => Assert.Contains(V4(k), met));
        }
        Assert.Equal(2, map.ArraysGivenBack);
        Assert.Equal(0, Used(second));
        // Every key is still found, through the array that replaced them.
        for (var k = 0; k < i; k++)
            Assert.NotNull(map.Find(V4(k)));
    }

    [Fact]
    public void A_growth_puts_no_array_of_cells_on_the_GCs_heap()
    {
        var map = new PrefixMap();
        var entries = Enumerable.Range(0, 1 << 18).Select(i => Entry(V4(i))).ToArray();
        var growths = 0;
        foreach (var e in entries)
        {
            var capacity = map.Capacity;
            var before = GC.GetAllocatedBytesForCurrentThread();
            map.Set(e);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (map.Capacity == capacity)
                continue;
            growths++;
            // The new layout's two small objects (and at times a page of 1,024 entry references):
            // not the new array's 8 bytes a cell, which as a large object set off a full collection.
            Assert.True(allocated < 16 * 1024, $"a growth to {map.Capacity} cells allocated {allocated} bytes on the GC's heap");
        }
        Assert.True(growths > 10, $"{growths} growths");
        Assert.All(entries, e => Assert.Same(e, map.Find(e.Prefix)));
    }

    [Fact]
    public void A_cell_array_starts_empty_and_reads_empty_once_given_back()
    {
        foreach (var length in (int[])[16, 1000, CellArray.MappedCells - 1, CellArray.MappedCells, 3 * CellArray.MappedCells + 5])
        {
            var cells = new CellArray(length);
            Assert.Equal(length, cells.Length);
            Assert.All(cells.ToArray(), c => Assert.Equal(0, c));
            for (var i = 0; i < length; i += 7)
                cells[i] = i + 1;
            Assert.Equal(length - 1 - (length - 1) % 7 + 1, cells[length - 1 - (length - 1) % 7]);
            Assert.Equal(length >= CellArray.MappedCells, cells.CanGiveBack);
            cells.GiveBack();
            if (cells.CanGiveBack)
                Assert.All(cells.ToArray(), c => Assert.Equal(0, c));
            Assert.Throws<IndexOutOfRangeException>(() => cells[length]);
            Assert.Throws<IndexOutOfRangeException>(() => cells[-1]);
        }
    }

    [Fact]
    public void A_removed_prefix_is_gone_to_readers_and_keeps_its_cell_and_number_for_its_return()
    {
        var map = new PrefixMap();
        for (var i = 0; i < 100; i++)
            map.Set(Entry(V4(i)));
        var number = map.NumberOf(V4(7));

        Assert.True(map.Remove(Gone(V4(7))));

        Assert.Null(map.Find(V4(7)));
        Assert.Equal(number, map.NumberOf(V4(7)));
        Assert.DoesNotContain(map.Entries(), e => e.Prefix.Equals(V4(7)));
        Assert.Equal(99, map.Count);
        var hash = PrefixMap.Hash(V4(7));
        Assert.Null(map.EntryAt(map.Locate(V4(7), hash)));
        Assert.False(map.Remove(Gone(V4(7))));
        // Back, it takes its own cell and number again.
        var back = Entry(V4(7));
        Assert.Equal(number, map.Set(back));
        Assert.Same(back, map.Find(V4(7)));
        Assert.Equal(100, map.Entries().Count());
    }

    [Fact]
    public void A_deferred_shrink_waits_for_the_end_of_the_bulk_removal_and_then_happens_once()
    {
        var map = new PrefixMap();
        for (var i = 0; i < 20_000; i++)
            map.Set(Entry(V4(i)));
        var full = map.Capacity;
        using (map.DeferShrink())
        {
            for (var i = 100; i < 20_000; i++)
                Assert.True(map.Remove(Gone(V4(i))));
            Assert.Equal(full, map.Capacity);
            for (var i = 0; i < 100; i++)
                Assert.NotNull(map.Find(V4(i)));
            Assert.Equal(150, map.NumberOf(V4(150)));
        }
        Assert.Equal(100, map.Count);
        Assert.True(map.Capacity < full / 10, $"capacity {map.Capacity} of {full}");
        for (var i = 0; i < 100; i++)
            Assert.NotNull(map.Find(V4(i)));
        Assert.Null(map.Find(V4(100)));
        // The rebuild dropped the tombstones: their numbers go to new prefixes.
        Assert.Equal(-1, map.NumberOf(V4(150)));
        Assert.InRange(map.Set(Entry(V4(50_000))), 100, 19_999);
    }

    [Fact]
    public async Task Readers_never_miss_a_stable_entry_while_a_table_is_withdrawn_in_bulk_and_comes_back()
    {
        var (map, stable) = MapWithStableEntries();
        var bulk = Enumerable.Range(1_000_000, 40_000).Select(i => V4(i)).ToArray();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var readers = new Readers(map, stable, (random, lost) =>
        {
            // A withdrawn prefix is never found with an entry that is not its own.
            var p = bulk[random.Next(bulk.Length)];
            if (map.Find(p) is { } found && !found.Prefix.Equals(p))
                lost.Enqueue($"{p} found as {found.Prefix}");
        });
        // A table filled, withdrawn in bulk (one shrink at the end), some of it back within the removal
        // (its own cells and numbers taken back), three times over: the freed numbers go to other
        // prefixes in the next round while readers may still probe the arrays before.
        for (var round = 0; round < 3; round++)
        {
            foreach (var p in bulk)
                map.Set(Entry(p));
            using (map.DeferShrink())
            {
                foreach (var p in bulk)
                    map.Remove(Gone(p));
                for (var i = 0; i < bulk.Length; i += 7)
                {
                    var number = map.NumberOf(bulk[i]);
                    if (map.Set(Entry(bulk[i])) != number)
                        failures.Enqueue($"{bulk[i]} came back under another number");
                }
                for (var i = 0; i < bulk.Length; i += 7)
                    map.Remove(Gone(bulk[i]));
            }
        }
        Assert.Empty(await readers.StopAsync());
        Assert.Empty(failures);
        Assert.Equal(stable.Length, map.Count);
        Assert.All(bulk, p => Assert.Null(map.Find(p)));
    }

    [Fact]
    public void The_writers_walk_meets_each_live_entry_once_at_its_cell_and_refuses_a_rebuilt_array()
    {
        var map = new PrefixMap();
        for (var i = 0; i < 1000; i++)
            map.Set(Entry(V4(i)));
        for (var i = 0; i < 1000; i += 3)
            map.Remove(Gone(V4(i)));
        var seen = new HashSet<Prefix>();
        using (map.DeferShrink())
        {
            foreach (var live in map.WalkLive())
            {
                Assert.True(seen.Add(live.Entry.Prefix));
                Assert.Equal(PrefixMap.Hash(live.Entry.Prefix), live.Hash);
                Assert.Equal(map.Locate(live.Entry.Prefix, live.Hash), live.Cell);
                // Removing at the walk's cell, as a bulk withdrawal does, leaves the walk going.
                if (seen.Count % 2 == 0)
                    Assert.True(map.Remove(Gone(live.Entry.Prefix), live.Entry.Prefix, live.Hash, live.Cell) >= 0);
            }
        }
        Assert.Equal(666, seen.Count);
        Assert.Equal(333, map.Count);

        Assert.Throws<InvalidOperationException>(() =>
        {
            var next = 5000;
            foreach (var live in map.WalkLive())
                map.Set(Entry(V4(next++))); // growth rebuilds the array under the walk
        });
    }

    [Fact]
    public void A_bulk_removal_that_shrinks_nothing_keeps_no_route_alive()
    {
        var map = new PrefixMap();
        for (var i = 0; i < 1000; i++)
            map.Set(Entry(V4(i)));
        var removed = RemoveSomeInBulk(map);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(removed.IsAlive, "a removed route is still reachable from its tombstone");
        // Still tombstones of their keys: the number stays, the key comes back to its cell.
        Assert.Equal(100, map.NumberOf(V4(100)));
        Assert.Null(map.Find(V4(100)));
        Assert.Equal(100, map.Set(Entry(V4(100))));
        Assert.Equal(901, map.Count);
    }

    /// <summary>Removes 100 of the map's prefixes in one bulk removal (too few to shrink it); a weak reference to one removed route.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private WeakReference RemoveSomeInBulk(PrefixMap map)
    {
        var weak = new WeakReference(map.Find(V4(100)));
        var capacity = map.Capacity;
        using (map.DeferShrink())
        {
            for (var i = 100; i < 200; i++)
                Assert.True(map.Remove(Gone(V4(i))));
        }
        Assert.Equal(capacity, map.Capacity);
        return weak;
    }

    /// <summary>
    /// Two reader threads probing the map while a test's writer works: each stable entry is always found
    /// as itself, and every pass over the entries (taken while the array may be swapped) sees each prefix
    /// once and every stable one; <paramref name="check"/> adds a test's own probe.
    /// </summary>
    private sealed class Readers : IDisposable
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _failures = new();
        private readonly Task[] _threads;
        private int _done;

        public Readers(PrefixMap map, RouteEntry[] stable, Action<Random, System.Collections.Concurrent.ConcurrentQueue<string>>? check = null)
        {
            void Read(int seed)
            {
                var random = new Random(seed);
                while (Volatile.Read(ref _done) == 0)
                {
                    var e = stable[random.Next(stable.Length)];
                    if (!ReferenceEquals(map.Find(e.Prefix), e))
                        _failures.Enqueue($"lost {e.Prefix}");
                    check?.Invoke(random, _failures);
                    if (random.Next(256) == 0)
                    {
                        var seen = new HashSet<Prefix>();
                        foreach (var x in map.Entries())
                        {
                            if (!seen.Add(x.Prefix))
                                _failures.Enqueue($"twice {x.Prefix}");
                        }
                        if (!stable.All(s => seen.Contains(s.Prefix)))
                            _failures.Enqueue("a stable prefix missing from an enumeration");
                    }
                }
            }

            _threads = Enumerable.Range(0, 2).Select(i => Task.Factory.StartNew(() => Read(i), TaskCreationOptions.LongRunning)).ToArray();
        }

        /// <summary>Stops the readers; what they found wrong.</summary>
        public async Task<string[]> StopAsync()
        {
            Volatile.Write(ref _done, 1);
            await Task.WhenAll(_threads);
            return [.. _failures];
        }

        public void Dispose() => Volatile.Write(ref _done, 1);
    }
}
