using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Export;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>The Adj-RIB-Out's numbering of path kinds: counted uses, numbers reused, sets by reference.</summary>
public class RefIndexTests
{
    private static PathAttributes Med(uint med) => new() { Source = RouteSource.Bgp, Med = med };

    [Fact]
    public void A_kind_keeps_its_number_while_used_and_a_freed_number_goes_to_the_next_kind()
    {
        var table = new RoutingTable();
        Protocol a = new TestStatic(table), b = new TestStatic(table);
        PathAttributes x = Med(1), y = Med(2);
        var index = new RefIndex<PathKind>();

        var ax = index.Acquire(new PathKind(a, 0, x));
        Assert.Equal(ax, index.Acquire(new PathKind(a, 0, x)));
        var bx = index.Acquire(new PathKind(b, 0, x));
        var ax7 = index.Acquire(new PathKind(a, 7, x));
        Assert.Equal(3, new[] { ax, bx, ax7 }.Distinct().Count());
        // An equal set that is another object is another kind: sets are interned and compared by reference.
        var ax2 = index.Acquire(new PathKind(a, 0, Med(1)));
        Assert.NotEqual(ax, ax2);
        Assert.Equal(4, index.Count);

        // The last kind numbered, freed: its number goes to the next new kind, not back to it from a cache.
        index.Release(ax2);
        var by = index.Acquire(new PathKind(b, 0, y));
        Assert.Equal(ax2, by);
        Assert.Same(y, index[by].Attributes);
        Assert.Same(b, index[by].Source);

        // Two uses of (a, 0, x): the first release keeps it, the second frees it.
        index.Release(ax);
        Assert.Equal(4, index.Count);
        index.Release(ax);
        Assert.Equal(3, index.Count);
        var again = index.Acquire(new PathKind(a, 0, x));
        Assert.Equal(4, index.Count);
        Assert.Same(x, index[again].Attributes);

        Assert.Throws<ArgumentException>(() => index.Acquire(default));
    }

    [Fact]
    public void The_last_answer_freed_and_asked_for_again_is_numbered_anew()
    {
        var table = new RoutingTable();
        var kind = new PathKind(new TestStatic(table), 0, Med(1));
        var index = new RefIndex<PathKind>();
        var n = index.Acquire(kind);
        index.Release(n);
        Assert.Equal(0, index.Count);
        index.Acquire(kind);
        Assert.Equal(1, index.Count);
    }
}
