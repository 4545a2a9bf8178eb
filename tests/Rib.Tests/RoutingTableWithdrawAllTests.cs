using Calico.Bgp.Rib;

namespace Calico.Bgp.Rib.Tests;

/// <summary>
/// <see cref="RoutingTable.WithdrawAll"/> and <see cref="RoutingTable.WithdrawStale"/> over every
/// shape of entry (a lone route, an array with some or all of the protocol's routes, an entry
/// without any): what stays, the counts, and one journal change per prefix that lost a route.
/// </summary>
public sealed class RoutingTableWithdrawAllTests
{
    private readonly RoutingTable _table = new();
    private readonly TestProtocol _a;
    private readonly TestProtocol _b;
    private readonly TestProtocol _c;
    private readonly PathAttributes _attrs;

    public RoutingTableWithdrawAllTests()
    {
        _a = new TestProtocol("a", _table, 100, new BgpPeerIdentity(IpAddr.Parse("10.0.0.2"), 2, false));
        _b = new TestProtocol("b", _table, 100, new BgpPeerIdentity(IpAddr.Parse("10.0.0.3"), 3, false));
        _c = new TestProtocol("c", _table, 100, new BgpPeerIdentity(IpAddr.Parse("10.0.0.4"), 4, false));
        _attrs = _table.Attributes.Intern(new PathAttributes { Source = RouteSource.Bgp, NextHop = IpAddr.Parse("10.0.0.2") });
    }

    private static Prefix P(int i) => Prefix.Parse($"10.{i}.0.0/16");

    private void Add(int prefix, Protocol owner, uint pathId = 0) => _table.Update(Route.Create(P(prefix), _attrs, owner, pathId));

    [Fact]
    public void Every_route_of_the_protocol_goes_in_every_shape_of_entry_and_the_journal_sees_each_prefix_once()
    {
        Add(1, _a);                                  // a lone route of a: the prefix goes
        Add(2, _b);                                  // a lone route of another: untouched
        Add(3, _a); Add(3, _b);                      // two routes, one of a: b's stays alone
        Add(4, _a); Add(4, _b); Add(4, _c);          // three, one of a: two stay
        Add(5, _a, 1); Add(5, _a, 2); Add(5, _c);    // two paths of a and one of c
        Add(6, _a, 1); Add(6, _a, 2);                // two paths of a only: the prefix goes
        Add(7, _b); Add(7, _c);                      // an array without a: untouched
        using var reader = _table.SubscribeJournal("test");
        reader.Resync([]);

        Assert.Equal(7, _table.WithdrawAll(_a));

        Assert.Null(_table.Find(P(1)));
        Assert.Null(_table.Find(P(6)));
        Assert.Same(_b, Assert.Single(_table.Find(P(2))!.Routes).Protocol);
        Assert.Same(_b, Assert.Single(_table.Find(P(3))!.Routes).Protocol);
        Assert.Equal(new Protocol[] { _b, _c }, _table.Find(P(4))!.Routes.Select(r => r.Protocol).OrderBy(p => p.Name));
        Assert.Same(_c, Assert.Single(_table.Find(P(5))!.Routes).Protocol);
        Assert.Equal(2, _table.Find(P(7))!.Routes.Length);
        Assert.Equal(5, _table.PrefixCount);
        Assert.DoesNotContain(_table.Entries.SelectMany(e => e.Routes), r => ReferenceEquals(r.Protocol, _a));

        var changes = new TableChange[16];
        var n = reader.TryRead(changes);
        Assert.Equal(new[] { 1, 3, 4, 5, 6 }, changes[..n].Select(c => int.Parse(c.Prefix.ToString().Split('.')[1])).Order());
        Assert.Equal(0, _table.WithdrawAll(_a));
        Assert.Equal(0, reader.TryRead(changes));
    }

    [Fact]
    public void Only_the_stale_routes_of_the_protocol_go()
    {
        Add(1, _a);
        Add(2, _a); Add(2, _b);
        Add(3, _a, 1); Add(3, _b);
        Assert.Equal(3, _table.MarkStale(_a));
        Add(3, _a, 2);                               // a fresh path of a, announced after the restart
        Add(4, _a);                                  // a fresh lone route of a

        Assert.Equal(3, _table.WithdrawStale(_a));

        Assert.Null(_table.Find(P(1)));
        Assert.Same(_b, Assert.Single(_table.Find(P(2))!.Routes).Protocol);
        var three = _table.Find(P(3))!.Routes;
        Assert.Equal(2, three.Length);
        Assert.Contains(three, r => ReferenceEquals(r.Protocol, _a) && r.PathId == 2 && !r.Stale);
        Assert.False(Assert.Single(_table.Find(P(4))!.Routes).Stale);
        Assert.Equal(0, _table.WithdrawStale(_a));
    }

    [Fact]
    public void The_table_tells_of_bulk_removals_only_from_the_notice_size_up()
    {
        for (var i = 0; i < RoutingTable.BulkRemovalNotice; i++)
            _table.Update(Route.Create(new Prefix(IpAddr.FromV4(0x0A000000u + ((uint)i << 8)), 24), _attrs, _a));
        for (var i = 0; i < 100; i++)
            _table.Update(Route.Create(new Prefix(IpAddr.FromV4(0x0B000000u + ((uint)i << 8)), 24), _attrs, _b));
        var told = new List<int>();
        _table.BulkRemoved += told.Add;

        Assert.Equal(100, _table.WithdrawAll(_b));
        Assert.Empty(told);
        Assert.Equal(RoutingTable.BulkRemovalNotice, _table.MarkStale(_a));
        Assert.Equal(RoutingTable.BulkRemovalNotice, _table.WithdrawStale(_a));
        Assert.Equal([RoutingTable.BulkRemovalNotice], told);
        Assert.Equal(0, _table.WithdrawAll(_a));
        Assert.Single(told);
    }
}
