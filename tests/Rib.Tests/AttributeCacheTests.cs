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
        Assert.Equal(Sets, table.Attributes.Sweep());
        Assert.Equal(0, table.Attributes.Count);
    }

    [Fact]
    public void A_set_still_in_use_survives_a_sweep_and_stays_the_interned_one()
    {
        var cache = new AttributeCache();
        var kept = cache.Intern(Attributes(1));
        InternUnheld(cache);
        Assert.Equal(2, cache.Count);

        Collect();
        Assert.Equal(1, cache.Sweep());
        Assert.Equal(1, cache.Count);
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
        Assert.Equal(1, cache.Sweep());
        Assert.Equal(1, cache.Count);
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
            table.Update(new Route(prefix, table.Attributes.Intern(Attributes((uint)i)), protocol));
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference<PathAttributes> InternUnheld(AttributeCache cache) => new(cache.Intern(Attributes(2)));

    private static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}
