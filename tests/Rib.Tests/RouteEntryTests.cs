using Calico.Bgp.Rib;

namespace Calico.Bgp.Rib.Tests;

/// <summary>A route's packed fields and an entry's single-route form read back as they went in.</summary>
public class RouteEntryTests
{
    private readonly RoutingTable _table = new();
    private readonly TestProtocol _a;
    private readonly TestProtocol _b;
    private readonly PathAttributes _attrs;

    public RouteEntryTests()
    {
        _a = new TestProtocol("a", _table, 100);
        _b = new TestProtocol("b", _table, 200);
        _attrs = _table.Attributes.Intern(new PathAttributes { Source = RouteSource.Static });
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65535)]
    [InlineData(65536)]
    [InlineData(-1)]
    [InlineData(int.MaxValue)]
    [InlineData(int.MinValue)]
    public void Any_preference_reads_back_including_outside_BIRDs_16_bits(int preference)
    {
        var r = Route.Create(Prefix.Parse("10.0.0.0/24"), _attrs, _a, preference: preference);
        Assert.Equal(preference, r.Preference);
        Assert.Equal(preference, r.AsStale().Preference);
        Assert.Equal(preference, r.WithAttributes(PathAttributes.Empty).Preference);
        Assert.Equal(7, r.WithPreference(7).Preference);
        Assert.Equal(preference, Route.Create(r.Prefix, _attrs, _a).WithPreference(preference).Preference);
    }

    [Theory]
    [InlineData("fd00:1:2:3::/64")]
    [InlineData("10.20.30.0/24")]
    [InlineData("0.0.0.0/0")]
    [InlineData("255.255.255.255/32")]
    [InlineData("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128")]
    public void Fields_read_back_and_since_keeps_its_second(string text)
    {
        var since = new DateTimeOffset(2026, 11, 26, 10, 30, 15, 123, TimeSpan.FromHours(2)).AddTicks(4567);
        var prefix = Prefix.Parse(text);
        var r = Route.Create(prefix, _attrs, _a, pathId: uint.MaxValue, stale: true, since: since);
        Assert.Equal(prefix, r.Prefix);
        Assert.Equal(prefix.IsV6, r.Prefix.IsV6);
        Assert.True(r.IsFor(prefix));
        Assert.Equal(uint.MaxValue, r.PathId);
        Assert.True(r.Stale);
        // Whole seconds, as show route prints it: the instant less its fraction of a second.
        Assert.Equal(new DateTimeOffset(2026, 11, 26, 8, 30, 15, TimeSpan.Zero), r.Since);
        Assert.Equal(100, r.Preference);
        var fresh = Route.Create(Prefix.Parse("10.0.0.0/24"), _attrs, _a);
        Assert.False(fresh.Stale);
        Assert.True(fresh.AsStale().Stale);
        Assert.Equal(fresh.Since, fresh.AsStale().Since);
        Assert.Equal(fresh.Since, fresh.WithPreference(7).Since);
    }

    [Theory]
    [InlineData("10.20.30.0/24", "10.20.30.0/25")]
    [InlineData("10.20.30.0/24", "10.20.31.0/24")]
    [InlineData("0.0.0.0/0", "::/0")]
    [InlineData("10.0.0.0/8", "a00::/8")]
    [InlineData("fd00::/64", "fd00::/65")]
    [InlineData("fd00::/64", "fd00:0:0:1::/64")]
    [InlineData("fd00::1/128", "fd01::1/128")]
    public void A_route_is_not_for_another_prefix(string own, string other) =>
        Assert.False(Route.Create(Prefix.Parse(own), _attrs, _a).IsFor(Prefix.Parse(other)));

    [Fact]
    public void Since_before_2000_or_after_2136_is_held_at_the_edge()
    {
        var p = Prefix.Parse("10.0.0.0/24");
        Assert.Equal(new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero), Route.Create(p, _attrs, _a, since: new DateTimeOffset(1999, 1, 1, 0, 0, 0, TimeSpan.Zero)).Since);
        Assert.Equal(2136, Route.Create(p, _attrs, _a, since: DateTimeOffset.MaxValue).Since.Year);
    }

    [Fact]
    public void An_ipv4_route_is_a_smaller_object_than_an_ipv6_one_and_a_path_id_costs_only_the_routes_that_have_one()
    {
        // The bytes a route costs the table: measured, not assumed (the runtime lays the fields out).
        static long Bytes(Prefix p, PathAttributes attrs, Protocol owner, uint pathId)
        {
            var keep = new Route[1000];
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < keep.Length; i++)
                keep[i] = Route.Create(p, attrs, owner, pathId, since: DateTimeOffset.UnixEpoch);
            var bytes = (GC.GetAllocatedBytesForCurrentThread() - before) / keep.Length;
            GC.KeepAlive(keep);
            Assert.All(keep, r => Assert.Equal(pathId, r.PathId));
            Assert.All(keep, r => Assert.Equal(p, r.Prefix));
            return bytes;
        }
        Assert.Equal(48, Bytes(Prefix.Parse("10.0.0.0/24"), _attrs, _a, 0));
        Assert.Equal(56, Bytes(Prefix.Parse("10.0.0.0/24"), _attrs, _a, 7));
        Assert.Equal(64, Bytes(Prefix.Parse("fd00::/64"), _attrs, _a, 0));
        Assert.Equal(72, Bytes(Prefix.Parse("fd00::/64"), _attrs, _a, 7));
    }

    [Fact]
    public void A_single_route_entry_reads_like_a_list_of_one_without_allocating()
    {
        var p = Prefix.Parse("10.1.0.0/24");
        var route = Route.Create(p, _attrs, _a);
        _table.Update(route);
        var entry = _table.Find(p)!;
        Assert.Equal(p, entry.Prefix);
        Assert.Equal(1, entry.Count);
        Assert.Same(route, entry[0]);
        Assert.Same(route, entry.Best);
        Assert.Same(route, Assert.Single(entry.Routes));
        Assert.Throws<ArgumentOutOfRangeException>(() => entry[1]);
        Assert.Same(route, Assert.Single(DecisionProcess.MergePaths(entry)));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var seen = 0;
        foreach (var r in entry)
            seen += ReferenceEquals(r, route) ? 1 : 0;
        var found = _table.Find(p);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(1, seen);
        Assert.Same(entry, found);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Entries_move_between_one_route_many_and_none()
    {
        var p = Prefix.Parse("10.2.0.0/24");
        var fromA = Route.Create(p, _attrs, _a);
        var fromB = Route.Create(p, _attrs, _b);
        _table.Update(fromA);
        _table.Update(fromB);
        var two = _table.Find(p)!;
        Assert.Equal(2, two.Count);
        Assert.Same(fromB, two.Best); // preference 200 beats 100
        Assert.Equal(new[] { fromB, fromA }, two.Routes.ToArray());
        Assert.Equal(new[] { fromB, fromA }, Enumerate(two).ToArray());

        Assert.True(_table.Withdraw(p, _b));
        var one = _table.Find(p)!;
        Assert.Same(fromA, one.Best);
        Assert.Equal(1, one.Count);
        Assert.Equal(p, one.Prefix);

        var journal = _table.SubscribeJournal("j");
        journal.Resync([]);
        Assert.True(_table.Withdraw(p, _a));
        Assert.Null(_table.Find(p));
        var changes = new TableChange[4];
        Assert.Equal(1, journal.TryRead(changes));
        var gone = changes[0].Entry;
        Assert.True(gone.IsEmpty);
        Assert.Equal(0, gone.Count);
        Assert.Equal(p, gone.Prefix);
        Assert.Null(gone.Best);
        Assert.Empty(gone.Routes);
        Assert.Equal(_table.NumberOf(p), changes[0].Number);
    }

    [Fact]
    public void Marking_stale_and_removing_stale_keep_the_others_in_order()
    {
        var p = Prefix.Parse("10.3.0.0/24");
        _table.Update(Route.Create(p, _attrs, _a));
        _table.Update(Route.Create(p, _attrs, _b));
        _table.Update(Route.Create(Prefix.Parse("10.4.0.0/24"), _attrs, _b));
        Assert.Equal(2, _table.MarkStale(_b));
        // A stale route loses to a fresh one whatever its preference (BIRD's rte_better).
        Assert.True(_table.Find(p)![1].Stale);
        Assert.Same(_a, _table.Find(p)!.Best!.Protocol);
        Assert.Equal(2, _table.WithdrawStale(_b));
        Assert.Same(_a, _table.Find(p)!.Best!.Protocol);
        Assert.Null(_table.Find(Prefix.Parse("10.4.0.0/24")));
        Assert.Equal(1, _table.PrefixCount);
    }

    private static List<Route> Enumerate(RouteEntry entry)
    {
        var list = new List<Route>();
        foreach (var r in entry)
            list.Add(r);
        return list;
    }
}
