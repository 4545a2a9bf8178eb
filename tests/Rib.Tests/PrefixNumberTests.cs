using Calico.Bgp.Rib;

namespace Calico.Bgp.Rib.Tests;

/// <summary>
/// The numbers a table gives its prefixes (<see cref="TableChange.Number"/>), which exporters index
/// their per-prefix state by: dense, in arrival order, the same while the table knows the prefix (an
/// entry or a tombstone, across its map's rebuilds), and another prefix's only after a rebuild forgot it.
/// </summary>
public class PrefixNumberTests
{
    private readonly RoutingTable _table = new();
    private readonly TestProtocol _protocol;

    public PrefixNumberTests() => _protocol = new TestProtocol("p", _table);

    private static Prefix V4(int i) => new(IpAddr.FromV4(0x0A000000u + ((uint)i << 8)), 24);

    private void Add(Prefix prefix) => _table.Update(Route.Create(prefix, PathAttributes.Empty, _protocol));

    [Fact]
    public void Numbers_are_dense_in_arrival_order_and_stay_through_growth_removal_and_return()
    {
        // Enough prefixes for the map to grow (rebuild) several times.
        for (var i = 0; i < 10_000; i++)
            Add(V4(i));
        for (var i = 0; i < 10_000; i++)
            Assert.Equal(i, _table.NumberOf(V4(i)));
        Assert.Equal(10_000, _table.NumberLimit);
        Assert.Equal(-1, _table.NumberOf(V4(20_000)));

        // Removed, the prefix keeps its number as a tombstone, and takes it back when it returns.
        Assert.True(_table.Withdraw(V4(17), _protocol));
        Assert.Equal(17, _table.NumberOf(V4(17)));
        Add(V4(17));
        Assert.Equal(17, _table.NumberOf(V4(17)));
        // A second route on the prefix (a new entry object) does not change it.
        var other = new TestProtocol("q", _table);
        _table.Update(Route.Create(V4(17), PathAttributes.Empty, other));
        Assert.Equal(17, _table.NumberOf(V4(17)));
        Assert.Equal(10_000, _table.NumberLimit);
    }

    [Fact]
    public void A_number_goes_to_another_prefix_only_after_a_rebuild_forgot_the_first()
    {
        for (var i = 0; i < 1000; i++)
            Add(V4(i));
        // Most of the table withdrawn: tombstones outnumber the entries, the map rebuilds and forgets them.
        for (var i = 0; i < 900; i++)
            _table.Withdraw(V4(i), _protocol);
        Assert.Equal(-1, _table.NumberOf(V4(0)));
        var freed = Enumerable.Range(0, 900).ToHashSet();
        // New prefixes take the freed numbers before any new one; the survivors keep theirs.
        for (var i = 0; i < 900; i++)
        {
            Add(V4(5000 + i));
            Assert.Contains(_table.NumberOf(V4(5000 + i)), freed);
        }
        Assert.Equal(1000, _table.NumberLimit);
        for (var i = 900; i < 1000; i++)
            Assert.Equal(i, _table.NumberOf(V4(i)));
        var all = Enumerable.Range(900, 100).Concat(Enumerable.Range(5000, 900)).Select(i => _table.NumberOf(V4(i))).ToHashSet();
        Assert.Equal(1000, all.Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_table_withdrawn_whole_numbers_its_prefixes_from_zero_again(bool inBulk)
    {
        for (var i = 0; i < 5000; i++)
            Add(V4(i));
        if (inBulk)
            Assert.Equal(5000, _table.WithdrawAll(_protocol));
        else
        {
            for (var i = 0; i < 5000; i++)
                Assert.True(_table.Withdraw(V4(i), _protocol));
        }
        Assert.Equal(0, _table.PrefixCount);
        // The rebuild that forgot the last tombstones left no number in use: none is kept in a free list.
        Assert.Equal(0, _table.NumberLimit);
        Assert.Equal(-1, _table.NumberOf(V4(0)));

        // A new table arrives numbered as the first did: dense from 0, in arrival order.
        for (var i = 0; i < 3000; i++)
            Add(V4(10_000 + i));
        for (var i = 0; i < 3000; i++)
            Assert.Equal(i, _table.NumberOf(V4(10_000 + i)));
        Assert.Equal(3000, _table.NumberLimit);
    }

    [Fact]
    public void Journal_changes_and_a_resync_carry_each_prefix_number()
    {
        using var reader = _table.SubscribeJournal("test");
        var entries = new List<RouteEntry>();
        var numbers = new List<int>();
        reader.Resync(entries, numbers);
        for (var i = 0; i < 300; i++)
            Add(V4(i));
        _table.Withdraw(V4(5), _protocol);
        var changes = new TableChange[512];
        var n = reader.TryRead(changes);
        Assert.Equal(301, n);
        for (var i = 0; i < 300; i++)
            Assert.Equal(i, changes[i].Number);
        Assert.True(changes[300].Entry.IsEmpty);
        Assert.Equal(5, changes[300].Number);

        // A withdrawal of a prefix the table never had changes nothing and journals nothing.
        Assert.False(_table.Withdraw(V4(9999), _protocol));
        Assert.Equal(0, reader.TryRead(changes));

        using var late = _table.SubscribeJournal("late");
        late.Resync(entries, numbers);
        Assert.Equal(299, entries.Count);
        Assert.Equal(entries.Count, numbers.Count);
        for (var i = 0; i < entries.Count; i++)
            Assert.Equal(_table.NumberOf(entries[i].Prefix), numbers[i]);
        Assert.DoesNotContain(5, numbers);
    }
}
