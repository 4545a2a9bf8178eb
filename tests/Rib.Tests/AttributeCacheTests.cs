using System.Runtime.CompilerServices;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Rib.Tests;

/// <summary>The attribute cache forgets sets no route (nor anyone else) holds.</summary>
public class AttributeCacheTests
{
    private const int Sets = 500;

    [Fact]
    public void After_every_route_is_withdrawn_the_cache_shrinks_to_nothing()
    {
        var table = new RoutingTable();
        var bgp = new TestProtocol("b", table, 100, new BgpPeerIdentity(IpAddr.Parse("10.0.0.2"), 2, false));
        Announce(table, bgp);
        Assert.Equal(Sets, table.Attributes.Count);
        Assert.Equal(Sets, table.PrefixCount);

        Assert.Equal(Sets, table.WithdrawAll(bgp));
        Collect();
        SweepUntil(table.Attributes, 0);
    }

    [Fact]
    public void A_full_collection_sweeps_the_dead_sets_without_being_asked()
    {
        var cache = new AttributeCache();
        // Fewer than the insert-driven sweep's interval, so only the collection can make it sweep.
        var all = InternAll(cache, 3000);
        Assert.Equal(all.Length, cache.Count);
        var kept = all.Where((_, i) => i % 30 == 0).Select(a => a!).ToArray();
        Array.Clear(all);

        Collect();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (cache.Count != kept.Length && DateTime.UtcNow < deadline)
            Thread.Sleep(10);
        Assert.True(cache.Sweeps > 0);
        Assert.Equal(kept.Length, cache.Count);
        // The survivors are still the interned ones.
        for (var i = 0; i < kept.Length; i++)
            Assert.Same(kept[i], cache.Intern(Attributes((uint)(i * 30))));
        Assert.Equal(kept.Length, cache.Count);
    }

    [Fact]
    public async Task Sweeping_while_interning_keeps_the_count_equal_to_the_sets_held()
    {
        var cache = new AttributeCache();
        var kept = new PathAttributes[2][];
        // Two threads intern sets of their own, half of them dropped, while a third sweeps.
        using var stop = new CancellationTokenSource();
        var sweeper = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
                cache.Sweep();
        });
        Parallel.For(0, kept.Length, t => kept[t] = InternAndKeepSome(cache, 5000, keepEvery: 2, first: (uint)t * 100_000));
        await stop.CancelAsync();
        await sweeper;
        Collect();
        SweepUntil(cache, kept[0].Length + kept[1].Length);
        GC.KeepAlive(kept);
    }

    [Fact]
    public void A_set_still_in_use_survives_a_sweep_and_stays_the_interned_one()
    {
        var cache = new AttributeCache();
        var kept = cache.Intern(Attributes(1));
        InternUnheld(cache);
        Assert.Equal(2, cache.Count);

        Collect();
        SweepUntil(cache, 1);
        Assert.Same(kept, cache.Intern(Attributes(1)));
        GC.KeepAlive(kept);
    }

    [Fact]
    public void A_forgotten_set_interned_again_is_a_new_object_equal_to_the_old()
    {
        var cache = new AttributeCache();
        var weak = InternUnheld(cache);
        Collect();
        Assert.False(weak.TryGetTarget(out _));
        var again = cache.Intern(Attributes(2));
        Assert.Equal(Attributes(2), again);
        Assert.Same(again, cache.Intern(Attributes(2)));
        SweepUntil(cache, 1);
        GC.KeepAlive(again);
    }

    [Fact]
    public void Interning_concurrently_gives_one_object_per_set()
    {
        var cache = new AttributeCache();
        var seen = new PathAttributes[4][];
        Parallel.For(0, seen.Length, t =>
        {
            seen[t] = new PathAttributes[64];
            for (var i = 0; i < 64; i++)
                seen[t][i] = cache.Intern(Attributes((uint)i));
        });
        for (var i = 0; i < 64; i++)
        {
            for (var t = 1; t < seen.Length; t++)
                Assert.Same(seen[0][i], seen[t][i]);
        }
        Assert.Equal(64, cache.Count);
    }

    private static PathAttributes Attributes(uint localPref) =>
        new() { Source = RouteSource.Bgp, Origin = BgpOrigin.Igp, LocalPref = localPref, AsPath = AsPath.FromSequence(65001) };

    // The work that holds sets happens in methods of their own, so no local of the test keeps them alive.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Announce(RoutingTable table, Protocol protocol)
    {
        for (var i = 0; i < Sets; i++)
        {
            var prefix = new Prefix(IpAddr.FromV4(0x0A000000u + ((uint)i << 8)), 24);
            table.Update(Route.Create(prefix, table.Attributes.Intern(Attributes((uint)i)), protocol));
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference<PathAttributes> InternUnheld(AttributeCache cache) => new(cache.Intern(Attributes(2)));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static PathAttributes?[] InternAll(AttributeCache cache, int count)
    {
        var all = new PathAttributes?[count];
        for (var i = 0; i < all.Length; i++)
            all[i] = cache.Intern(Attributes((uint)i));
        return all;
    }

    // Keeps every keepEvery-th set of count new ones; the rest are dropped on return.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static PathAttributes[] InternAndKeepSome(AttributeCache cache, int count, int keepEvery, uint first = 0)
    {
        var kept = new List<PathAttributes>();
        for (var i = 0; i < count; i++)
        {
            var set = cache.Intern(Attributes(first + (uint)i));
            if (i % keepEvery == 0)
                kept.Add(set);
        }
        return [.. kept];
    }

    // The collection queues a sweep of its own, which may run beside this one and remove (and
    // uncount) an entry an instant after this sweep saw it gone: sweep until the count settles.
    private static void SweepUntil(AttributeCache cache, int expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            cache.Sweep();
            if (cache.Count == expected || DateTime.UtcNow > deadline)
                break;
            Thread.Sleep(10);
        }
        Assert.Equal(expected, cache.Count);
    }

    private static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}
