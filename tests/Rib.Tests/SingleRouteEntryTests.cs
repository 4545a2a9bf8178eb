using Calico.Bgp.Rib;

namespace Calico.Bgp.Rib.Tests;

/// <summary>
/// A prefix with one route costs one object: the route is its own entry. Its version is set once when
/// a table first publishes it; snapshots held by readers stay as they were while routes come and go;
/// a route that was an entry already is published again in a fresh entry, keeping its identity.
/// </summary>
public class SingleRouteEntryTests
{
    private static readonly Prefix P = Prefix.Parse("10.60.1.0/24");

    private readonly RoutingTable _table = new();
    private readonly TestProtocol _static;
    private readonly TestProtocol _bgp;
    private readonly PathAttributes _blackhole;
    private readonly PathAttributes _learned;

    public SingleRouteEntryTests()
    {
        _static = new TestProtocol("static1", _table, 200);
        _bgp = new TestProtocol("Mesh_10_0_0_2", _table, 100, new BgpPeerIdentity(IpAddr.Parse("10.0.0.2"), 2, false));
        _blackhole = _table.Attributes.Intern(new PathAttributes { Source = RouteSource.Static, Dest = RouteDest.Blackhole });
        _learned = _table.Attributes.Intern(new PathAttributes { Source = RouteSource.Bgp, NextHop = IpAddr.Parse("10.0.0.2") });
    }

    [Fact]
    public void A_lone_route_is_its_prefixs_entry_with_the_tables_version()
    {
        var route = Route.Create(P, _learned, _bgp);
        Assert.Equal(0, route.Version);
        Assert.Equal(RouteUpdate.Added, _table.Update(route));

        var entry = _table.Find(P);
        Assert.Same(route, entry);
        Assert.Equal(_table.Version, route.Version);
        Assert.Equal(1, entry!.Count);
        Assert.Same(route, entry.Best);
        Assert.Same(route, entry[0]);
        AssertSameRoutes([route], entry.Routes);
        Assert.Equal(P, entry.Prefix);
        Assert.False(entry.IsEmpty);
        Assert.Throws<ArgumentOutOfRangeException>(() => entry[1]);
        var seen = new List<Route>();
        foreach (var r in entry)
            seen.Add(r);
        AssertSameRoutes([route], seen);
    }

    [Fact]
    public void A_single_route_snapshot_stays_valid_while_a_second_route_arrives_and_leaves()
    {
        var first = Route.Create(P, _learned, _bgp);
        _table.Update(first);
        var snapshot = _table.Find(P)!;
        var v1 = snapshot.Version;

        var second = Route.Create(P, _blackhole, _static); // better: a higher preference
        _table.Update(second);
        var both = _table.Find(P)!;
        Assert.Equal(v1 + 1, both.Version);
        AssertSameRoutes([second, first], both.Routes);
        // The second route went into a two-route entry: it never was an entry, so it has no version yet.
        Assert.Equal(0, second.Version);

        // The snapshot a reader took before is unchanged.
        Assert.Same(first, snapshot);
        Assert.Equal(v1, snapshot.Version);
        Assert.Equal(1, snapshot.Count);
        Assert.Same(first, snapshot.Best);

        // The first route leaves: the second, never an entry, becomes the entry itself.
        Assert.True(_table.Withdraw(P, _bgp));
        var alone = _table.Find(P)!;
        Assert.Same(second, alone);
        Assert.Equal(v1 + 2, alone.Version);
        Assert.Equal(v1 + 1, both.Version);
        Assert.Equal(2, both.Count);
        Assert.Equal(v1, snapshot.Version);
    }

    [Fact]
    public void A_route_kept_when_the_other_leaves_is_the_same_object_in_a_fresh_entry()
    {
        var first = Route.Create(P, _blackhole, _static);
        _table.Update(first);
        var v1 = first.Version;
        using var reader = _table.SubscribeJournal("test");
        reader.Resync([]);

        var second = Route.Create(P, _learned, _bgp); // worse: a lower preference
        _table.Update(second);
        Assert.True(_table.Withdraw(P, _bgp));

        // The first route was an entry already (v1), so the one-route state after is a new entry
        // holding the same route: a reader's old snapshot keeps its version, the best is the same object.
        var now = _table.Find(P)!;
        Assert.NotSame(first, now);
        Assert.Same(first, now.Best);
        Assert.Equal(1, now.Count);
        Assert.Equal(v1 + 2, now.Version);
        Assert.Equal(v1, first.Version);

        Span<TableChange> changes = new TableChange[4];
        Assert.Equal(2, reader.TryRead(changes));
        Assert.Same(first, changes[0].NewBest);
        Assert.Same(first, changes[1].NewBest);
        Assert.Equal(changes[0].Number, changes[1].Number);

        // Replacing it with a fresh route of the same slot makes the new route the entry again.
        var replaced = Route.Create(P, _blackhole, _static, preference: 300);
        Assert.Equal(RouteUpdate.Replaced, _table.Update(replaced));
        Assert.Same(replaced, _table.Find(P));
        Assert.Equal(_table.Version, replaced.Version);
    }

    [Fact]
    public void A_route_published_in_two_tables_is_the_entry_of_the_first_and_inside_a_fresh_entry_of_the_second()
    {
        var other = new RoutingTable("t2", _table.Attributes);
        _table.Update(Route.Create(Prefix.Parse("10.99.0.0/24"), _learned, _bgp)); // the tables' versions differ
        var route = Route.Create(P, _learned, _bgp);

        _table.Update(route);
        other.Update(route);
        var v = route.Version;
        Assert.Equal(_table.Version, v);
        Assert.Same(route, _table.Find(P));
        var there = other.Find(P)!;
        Assert.NotSame(route, there);
        Assert.Same(route, there.Best);
        Assert.Equal(other.Version, there.Version);
        Assert.Equal(1, there.Count);

        // The same route again is no change in either table.
        Assert.Equal(RouteUpdate.Unchanged, _table.Update(route));
        Assert.Equal(RouteUpdate.Unchanged, other.Update(route));

        // Gone from the first table, it stays in the second with the entry it had there.
        Assert.True(_table.Withdraw(P, _bgp));
        Assert.Null(_table.Find(P));
        Assert.Same(there, other.Find(P));
        Assert.Equal(v, route.Version);

        // Back into the first table: it was an entry before, so it comes back in a fresh one.
        Assert.Equal(RouteUpdate.Added, _table.Update(route));
        var back = _table.Find(P)!;
        Assert.NotSame(route, back);
        Assert.Same(route, back.Best);
        Assert.Equal(_table.Version, back.Version);
        Assert.Equal(v, route.Version);

        // And it leaves the second table with no effect on the first.
        Assert.True(other.Withdraw(P, _bgp));
        Assert.Null(other.Find(P));
        Assert.Same(back, _table.Find(P));
    }

    [Fact]
    public void Journal_readers_see_each_change_in_order_each_in_an_entry_of_its_own()
    {
        using var reader = _table.SubscribeJournal("a");
        using var late = _table.SubscribeJournal("b");
        reader.Resync([]);
        late.Resync([]);
        var start = _table.Version;

        var first = Route.Create(P, _learned, _bgp);
        var second = Route.Create(P, _blackhole, _static);
        _table.Update(first);                       // 1 route (the route itself)
        _table.Update(second);                      // 2 routes, best changes
        _table.Withdraw(P, _static);                // back to 1: first, an entry before, in a fresh entry
        Assert.Equal(1, _table.MarkStale(_bgp));    // 1 route, a fresh stale copy: the entry itself
        var stale = _table.Find(P)!.Best!;
        _table.Withdraw(P, _bgp);                   // gone: the empty entry
        _table.Update(first);                       // 1 again: first was an entry, so a fresh entry

        foreach (var r in new[] { reader, late })
        {
            Span<TableChange> buffer = new TableChange[16];
            var n = r.TryRead(buffer);
            Assert.Equal(6, n);
            var c = buffer[..n].ToArray();
            Assert.Equal(Enumerable.Range(1, 6).Select(i => start + i), c.Select(x => x.Version));
            Assert.Equal([1, 2, 1, 1, 0, 1], c.Select(x => x.Entry.Count));
            Assert.All(c, x => Assert.Equal(P, x.Prefix));
            Assert.Equal(6, c.Select(x => x.Entry).Distinct(ReferenceEqualityComparer.Instance).Count());

            // One prefix, one number, through every change including its removal and return.
            Assert.All(c, x => Assert.Equal(_table.NumberOf(P), x.Number));
            Assert.Same(first, c[0].Entry);
            Assert.Same(second, c[1].NewBest);
            Assert.Same(first, c[2].NewBest);
            Assert.NotSame(first, c[2].Entry);
            Assert.Same(stale, c[3].Entry);
            Assert.True(stale.Stale);
            Assert.True(c[4].Entry.IsEmpty);
            Assert.Null(c[4].NewBest);
            Assert.Same(first, c[5].NewBest);
            Assert.NotSame(first, c[5].Entry);
        }
    }

    [Fact]
    public void A_removal_is_one_empty_entry_for_the_journal_and_the_map()
    {
        using var reader = _table.SubscribeJournal("test");
        reader.Resync([]);
        var route = Route.Create(P, _learned, _bgp);
        _table.Update(route);
        _table.Withdraw(P, _bgp);

        Assert.Null(_table.Find(P));
        Assert.Empty(_table.Entries);
        Assert.Equal(0, _table.PrefixCount);
        Span<TableChange> buffer = new TableChange[4];
        Assert.Equal(2, reader.TryRead(buffer));
        var gone = buffer[1].Entry;
        Assert.True(gone.IsEmpty);
        Assert.Equal(P, gone.Prefix);
        Assert.Null(gone.Best);
        Assert.Empty(gone.Routes);
        Assert.Throws<ArgumentOutOfRangeException>(() => gone[0]);

        // The prefix comes back into the table after its removal.
        var again = Route.Create(P, _learned, _bgp);
        Assert.Equal(RouteUpdate.Added, _table.Update(again));
        Assert.Same(again, _table.Find(P));
        Assert.Equal(1, _table.PrefixCount);
    }

    [Fact]
    public async Task Two_tables_racing_for_the_same_fresh_routes_each_publish_them_with_their_own_versions()
    {
        // Both writers see version 0 on the same route objects; the claim is atomic, so each route is
        // the entry of one table at most and sits in a fresh entry of the other.
        var other = new RoutingTable("t2", _table.Attributes);
        var routes = Enumerable.Range(0, 20_000)
            .Select(i => Route.Create(new Prefix(IpAddr.FromV4(0x0A400000u + ((uint)i << 8)), 24), _learned, _bgp))
            .ToArray();
        using var start = new Barrier(2);
        void Feed(RoutingTable t)
        {
            start.SignalAndWait();
            foreach (var r in routes)
                t.Update(r);
        }
        await Task.WhenAll(Task.Run(() => Feed(_table)), Task.Run(() => Feed(other)));

        var ownEntries = 0;
        foreach (var r in routes)
        {
            var here = _table.Find(r.Prefix)!;
            var there = other.Find(r.Prefix)!;
            Assert.Same(r, here.Best);
            Assert.Same(r, there.Best);
            Assert.NotSame(here, there);
            Assert.NotEqual(0, r.Version);
            // The route is the entry of the table whose writer claimed it, and carries that table's version.
            Assert.True(ReferenceEquals(here, r) || ReferenceEquals(there, r));
            ownEntries += (ReferenceEquals(here, r) ? 1 : 0) + (ReferenceEquals(there, r) ? 1 : 0);
            Assert.InRange(here.Version, 1, _table.Version);
            Assert.InRange(there.Version, 1, other.Version);
        }
        Assert.Equal(routes.Length, ownEntries);
        Assert.Equal(routes.Length, _table.PrefixCount);
        Assert.Equal(routes.Length, other.PrefixCount);
    }

    /// <summary>The same route objects in the same order (a route is an entry too, so compared by reference).</summary>
    private static void AssertSameRoutes(Route[] expected, IEnumerable<Route> actual)
    {
        var list = actual.ToList();
        Assert.Equal(expected.Length, list.Count);
        for (var i = 0; i < expected.Length; i++)
            Assert.Same(expected[i], list[i]);
    }
}
