using Calico.Bgp.Rib;

namespace Calico.Bgp.Rib.Tests;

/// <summary>The change journal: every change in order with the old and new best, bounded, resync on overflow.</summary>
public class JournalTests
{
    private static readonly Prefix P = Prefix.Parse("10.50.1.0/24");
    private static readonly Prefix Q = Prefix.Parse("10.50.2.0/24");

    private readonly RoutingTable _table = new();
    private readonly TestProtocol _static;
    private readonly TestProtocol _bgp;
    private readonly PathAttributes _blackhole;
    private readonly PathAttributes _learned;

    public JournalTests()
    {
        _static = new TestProtocol("static1", _table, 200);
        _bgp = new TestProtocol("Mesh_10_0_0_2", _table, 100, new BgpPeerIdentity(IpAddr.Parse("10.0.0.2"), 2, false));
        _blackhole = _table.Attributes.Intern(new PathAttributes { Source = RouteSource.Static, Dest = RouteDest.Blackhole });
        _learned = _table.Attributes.Intern(new PathAttributes { Source = RouteSource.Bgp, NextHop = IpAddr.Parse("10.0.0.2") });
    }

    [Fact]
    public void A_new_reader_resyncs_to_the_table_then_reads_each_change_with_its_entry_and_number()
    {
        var existing = Route.Create(P, _learned, _bgp);
        _table.Update(existing);
        using var reader = _table.SubscribeJournal("test");
        Assert.True(reader.NeedsResync);
        Span<TableChange> buffer = new TableChange[8];
        Assert.Equal(0, reader.TryRead(buffer));

        var snapshot = new List<RouteEntry>();
        reader.Resync(snapshot);
        Assert.Same(existing, Assert.Single(snapshot).Best);
        Assert.False(reader.NeedsResync);
        Assert.Equal(0, reader.TryRead(buffer));

        var better = Route.Create(P, _blackhole, _static);
        _table.Update(better);                      // best changes
        _table.Update(Route.Create(Q, _learned, _bgp)); // a new prefix
        _table.Withdraw(P, _bgp);                    // a route that is not the best goes
        _table.WithdrawAll(_bgp);                    // Q goes
        Assert.Equal(4, reader.Lag);

        var n = reader.TryRead(buffer);
        Assert.Equal(4, n);
        Assert.Equal(0, reader.Lag);
        var c = buffer[..n].ToArray();
        Assert.Equal([P, Q, P, Q], c.Select(x => x.Prefix));
        Assert.Equal(Enumerable.Range(0, 4).Select(i => c[0].Version + i), c.Select(x => x.Version));
        Assert.Same(better, c[0].NewBest);
        Assert.Equal(2, c[0].Entry.Routes.Length);
        Assert.Same(better, c[2].NewBest);
        Assert.Equal(1, c[2].Entry.Count);
        Assert.Equal([_table.NumberOf(P), _table.NumberOf(Q), _table.NumberOf(P), _table.NumberOf(Q)], c.Select(x => x.Number));
        Assert.NotEqual(c[0].Number, c[1].Number);
        Assert.True(c[3].Entry.IsEmpty);
        Assert.Null(c[3].NewBest);
        Assert.Equal(_table.Version, c[3].Version);
    }

    [Fact]
    public void An_unchanged_update_is_not_journalled()
    {
        using var reader = _table.SubscribeJournal("test");
        reader.Resync([]);
        _table.Update(Route.Create(P, _learned, _bgp));
        _table.Update(Route.Create(P, _learned, _bgp));
        Assert.Equal(1, reader.Lag);
    }

    [Fact]
    public void A_reader_that_falls_behind_its_capacity_is_switched_to_a_resync_and_the_writer_goes_on()
    {
        using var slow = _table.SubscribeJournal("slow", capacity: 4);
        using var fast = _table.SubscribeJournal("fast", capacity: 1000);
        slow.Resync([]);
        fast.Resync([]);
        Span<TableChange> buffer = new TableChange[16];
        for (var i = 0; i < 10; i++)
            _table.Update(Route.Create(new Prefix(IpAddr.FromV4(0x0A000000u + ((uint)i << 8)), 24), _learned, _bgp));

        Assert.Equal(10, fast.TryRead(buffer));
        Assert.Equal(0, slow.TryRead(buffer));
        Assert.True(slow.NeedsResync);
        Assert.True(slow.Overflowed);
        Assert.Equal(1, slow.OverflowCount);

        var snapshot = new List<RouteEntry>();
        slow.Resync(snapshot);
        Assert.Equal(10, snapshot.Count);
        Assert.False(slow.Overflowed);
        _table.Withdraw(P, _bgp);
        _table.Update(Route.Create(P, _learned, _bgp));
        Assert.Equal(1, slow.TryRead(buffer));
        Assert.Equal(P, buffer[0].Prefix);
    }

    [Fact]
    public void A_reader_overtaken_by_the_ring_itself_resyncs()
    {
        // A reader may ask for no more than the ring holds; one ring length behind, its next slot is gone.
        using var first = _table.SubscribeJournal("first");
        using var reader = _table.SubscribeJournal("big", capacity: int.MaxValue);
        Assert.Equal(_table.JournalCapacity, reader.Capacity);
        reader.Resync([]);
        for (var i = 0; i <= _table.JournalCapacity; i++)
        {
            if (i % 2 == 0)
                _table.Update(Route.Create(P, _learned, _bgp));
            else
                _table.Withdraw(P, _bgp);
        }
        Assert.Equal(0, reader.TryRead(new TableChange[4]));
        Assert.True(reader.Overflowed);
    }

    [Fact]
    public void The_ring_starts_small_and_grows_as_a_reader_falls_behind_without_losing_a_change()
    {
        using var reader = _table.SubscribeJournal("test");
        reader.Resync([]);
        Assert.Equal(ChangeJournal.InitialLength, _table.JournalLength);
        var first = _table.Version + 1;
        var changes = 3 * ChangeJournal.InitialLength + 5;
        for (var i = 0; i < changes; i++)
        {
            if (i % 2 == 0)
                _table.Update(Route.Create(P, _learned, _bgp));
            else
                _table.Withdraw(P, _bgp);
        }
        Assert.Equal(changes, reader.Lag);
        Assert.InRange(_table.JournalLength, 4 * ChangeJournal.InitialLength, _table.JournalCapacity);

        var versions = new List<long>();
        var buffer = new TableChange[100];
        while (reader.TryRead(buffer) is var n and > 0)
            versions.AddRange(buffer[..n].Select(c => c.Version));
        Assert.False(reader.Overflowed);
        Assert.Equal(Enumerable.Range(0, changes).Select(i => first + i), versions);
    }

    [Fact]
    public async Task A_reader_on_another_thread_reads_each_change_whole_and_in_order_while_the_ring_grows()
    {
        using var reader = _table.SubscribeJournal("test");
        reader.Resync([]);
        var prefixes = Enumerable.Range(0, 256).Select(i => Prefix.Parse($"10.60.{i}.0/24")).ToArray();
        var first = _table.Version + 1;
        const int Changes = 200_000;
        // Blocks of 256: every prefix announced, then every prefix withdrawn; change i (version first + i)
        // is always about prefixes[i % 256].
        var writer = Task.Run(() =>
        {
            for (var i = 0; i < Changes; i++)
            {
                if (i / 256 % 2 == 0)
                    _table.Update(Route.Create(prefixes[i % 256], _learned, _bgp));
                else
                    _table.Withdraw(prefixes[i % 256], _bgp);
            }
        });
        var buffer = new TableChange[128];
        var snapshot = new List<RouteEntry>();
        long next = first;
        var read = 0;
        while (!writer.IsCompleted || reader.NeedsResync || reader.Lag > 0)
        {
            if (reader.NeedsResync)
            {
                // Only a reader a whole capacity behind is sent to a resync; it starts again at the head.
                reader.Resync(snapshot);
                next = reader.Position;
                continue;
            }
            var n = reader.TryRead(buffer);
            for (var k = 0; k < n; k++)
            {
                Assert.Equal(next, buffer[k].Version);
                Assert.Equal(prefixes[(int)((next - first) % 256)], buffer[k].Prefix);
                next++;
            }
            read += n;
            if (n == 0)
                await Task.Yield();
        }
        await writer;
        Assert.Equal(first + Changes, next);
        Assert.InRange(_table.JournalLength, ChangeJournal.InitialLength, _table.JournalCapacity);
        if (reader.OverflowCount == 0)
            Assert.Equal(Changes, read);
    }

    [Fact]
    public void A_ring_whose_readers_keep_up_stays_at_its_first_length()
    {
        using var reader = _table.SubscribeJournal("test");
        reader.Resync([]);
        var buffer = new TableChange[64];
        var read = 0;
        for (var i = 0; i < 10 * ChangeJournal.InitialLength; i++)
        {
            if (i % 2 == 0)
                _table.Update(Route.Create(P, _learned, _bgp));
            else
                _table.Withdraw(P, _bgp);
            if (i % 50 == 49)
                read += reader.TryRead(buffer);
        }
        read += reader.TryRead(buffer);
        Assert.Equal(10 * ChangeJournal.InitialLength, read);
        Assert.Equal(ChangeJournal.InitialLength, _table.JournalLength);
    }

    [Fact]
    public void Readers_are_behind_past_the_yield_mark_or_a_quarter_of_their_capacity_and_never_while_due_for_a_resync()
    {
        using var reader = _table.SubscribeJournal("test");
        // A new reader is due for its initial resync: the resync covers every change, nothing to let run.
        // Each write flips P's attributes, so each is a change.
        for (var i = 0; i <= RoutingTable.YieldLag; i++)
            _table.Update(Route.Create(P, i % 2 == 0 ? _learned : _blackhole, _bgp));
        Assert.False(_table.ReadersBehind);

        reader.Resync([]);
        var buffer = new TableChange[RoutingTable.YieldLag + 1];
        for (var i = 0; i < RoutingTable.YieldLag; i++)
            _table.Update(Route.Create(P, i % 2 == 0 ? _blackhole : _learned, _bgp));
        Assert.Equal(RoutingTable.YieldLag, reader.Lag);
        Assert.False(_table.ReadersBehind);
        _table.Update(Route.Create(P, _blackhole, _bgp));
        Assert.True(_table.ReadersBehind);
        Assert.False(_table.IsCorked);

        Assert.Equal(RoutingTable.YieldLag + 1, reader.TryRead(buffer));
        Assert.False(_table.ReadersBehind);

        // A reader with a small ring is let run at a quarter of it, well before it corks at three quarters.
        using var small = _table.SubscribeJournal("small", capacity: 16);
        small.Resync([]);
        reader.Resync([]);
        for (var i = 0; i < 4; i++)
            _table.Update(Route.Create(P, i % 2 == 0 ? _learned : _blackhole, _bgp));
        Assert.Equal(4, small.Lag);
        Assert.False(_table.ReadersBehind);
        _table.Update(Route.Create(P, _learned, _bgp));
        Assert.True(_table.ReadersBehind);
        Assert.False(_table.IsCorked);
        small.Dispose();
        Assert.False(_table.ReadersBehind);
    }

    [Fact]
    public void Back_pressure_corks_the_table_while_a_reader_lags_and_uncorks_when_it_catches_up()
    {
        using var reader = _table.SubscribeJournal("test", capacity: 8);
        reader.Resync([]);
        for (var i = 0; i < 7; i++)
            _table.Update(Route.Create(P, i % 2 == 0 ? _learned : _blackhole, _bgp));
        Assert.True(_table.IsCorked);
        Assert.Equal(7, reader.TryRead(new TableChange[16]));
        Assert.False(_table.IsCorked);
    }

    [Fact]
    public async Task An_importer_waiting_on_the_cork_resumes_when_the_reader_catches_up_or_leaves()
    {
        Assert.True(_table.WaitUncorkedAsync().IsCompleted);
        var reader = _table.SubscribeJournal("test", capacity: 16);
        reader.Resync([]);
        for (var i = 0; i < 15; i++)
            _table.Update(Route.Create(P, i % 2 == 0 ? _learned : _blackhole, _bgp));
        var waiting = _table.WaitUncorkedAsync();
        Assert.False(waiting.IsCompleted);
        Assert.Equal(2, reader.TryRead(new TableChange[2]));
        Assert.False(waiting.IsCompleted); // 13 behind of 16: still over the mark (12)
        Assert.Equal(13, reader.TryRead(new TableChange[16]));
        await waiting.WaitAsync(TimeSpan.FromSeconds(30));

        for (var i = 0; i < 15; i++)
            _table.Update(Route.Create(P, i % 2 == 0 ? _learned : _blackhole, _bgp));
        waiting = _table.WaitUncorkedAsync();
        Assert.False(waiting.IsCompleted);
        reader.Dispose();
        await waiting.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task WaitAsync_completes_on_the_next_change_and_after_a_resync_is_due()
    {
        using var reader = _table.SubscribeJournal("test");
        await reader.WaitAsync(CancellationToken.None); // the initial resync is due at once
        reader.Resync([]);
        var waiting = reader.WaitAsync(CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);
        _table.Update(Route.Create(P, _learned, _bgp));
        await waiting;
        Assert.Equal(1, reader.Lag);

        using var cts = new CancellationTokenSource();
        reader.TryRead(new TableChange[1]);
        var cancelled = reader.WaitAsync(cts.Token).AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
    }

    [Fact]
    public async Task A_cancelled_wait_wakes_no_other_reader_for_good_and_the_next_token_works()
    {
        using var reader = _table.SubscribeJournal("cancelled");
        using var other = _table.SubscribeJournal("other");
        foreach (var r in new[] { reader, other })
        {
            await r.WaitAsync(CancellationToken.None);
            r.Resync([]);
        }
        // The other reader's wait is woken by the cancellation (it shares the journal's task) and
        // must wait on, then complete on the change.
        var otherWaiting = other.WaitAsync(CancellationToken.None).AsTask();
        using (var first = new CancellationTokenSource())
        {
            var cancelled = reader.WaitAsync(first.Token).AsTask();
            await first.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        }
        Assert.False(otherWaiting.IsCompleted);

        // A token cancelled before the wait: thrown at once, nothing registered that wakes later.
        using (var gone = new CancellationTokenSource())
        {
            await gone.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reader.WaitAsync(gone.Token).AsTask());
        }
        Assert.False(otherWaiting.IsCompleted);

        // Waits with a fresh token, many times: each completes on its change, none before it.
        using var second = new CancellationTokenSource();
        var buffer = new TableChange[4];
        for (var i = 0; i < 50; i++)
        {
            var waiting = reader.WaitAsync(second.Token).AsTask();
            Assert.False(waiting.IsCompleted);
            _table.Update(Route.Create(Prefix.Parse($"10.9.{i}.0/24"), _learned, _bgp));
            await waiting.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(1, reader.TryRead(buffer));
        }
        await otherWaiting.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(50, other.Lag);
    }

    [Fact]
    public void Readers_are_listed_while_subscribed_and_the_ring_goes_with_the_last_one()
    {
        var a = _table.SubscribeJournal("a");
        var b = _table.SubscribeJournal("b");
        Assert.Equal(["a", "b"], _table.JournalReaders.Select(r => r.Consumer));
        Assert.True(_table.JournalCapacity >= RoutingTable.DefaultJournalCapacity);
        a.Dispose();
        Assert.Equal(["b"], _table.JournalReaders.Select(r => r.Consumer));
        b.Dispose();
        Assert.Empty(_table.JournalReaders);
        Assert.Equal(0, _table.JournalCapacity);
    }

    [Fact]
    public void A_withdrawn_table_is_journalled_by_each_prefixs_last_entry_without_an_object_per_prefix()
    {
        const int Routes = 50_000;
        using var reader = _table.SubscribeJournal("test", 1 << 16);
        reader.Resync([]);
        var numbers = new Dictionary<Prefix, int>();
        var buffer = new TableChange[Routes];
        for (var i = 0; i < Routes; i++)
            _table.Update(Route.Create(Prefix.FromV4((uint)(0x0A00_0000 + (i << 8)), 24), _learned, _bgp));
        // Read once the table is in: the ring has grown to hold a whole table's lag, so the withdrawal below grows nothing.
        Assert.Equal(Routes, reader.TryRead(buffer));
        foreach (var c in buffer)
            numbers.Add(c.Prefix, c.Number);
        var before = _table.Version;

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(Routes, _table.WithdrawAll(_bgp));
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;

        // An empty entry per prefix was 48 bytes; what is left is the map's list of freed numbers.
        Assert.True(allocated < Routes * 24L, $"{allocated} bytes allocated for {Routes} removals");
        Assert.Equal(Routes, reader.TryRead(buffer));
        for (var i = 0; i < Routes; i++)
        {
            var c = buffer[i];
            Assert.True(c.IsRemoval);
            Assert.Null(c.NewEntry);
            Assert.Null(c.NewBest);
            Assert.Equal(before + 1 + i, c.Version);
            Assert.Equal(numbers[c.Prefix], c.Number);
            var empty = c.Entry; // made on asking: the prefix with no routes, at the removal's version
            Assert.True(empty.IsEmpty);
            Assert.Equal(c.Prefix, empty.Prefix);
            Assert.Equal(c.Version, empty.Version);
        }
        Assert.Equal(Routes, buffer.Select(c => c.Prefix).Distinct().Count());
        Assert.Equal(0, _table.PrefixCount);
    }

    [Fact]
    public void A_removal_recorded_by_the_last_entry_is_told_apart_from_that_entrys_own_change_in_the_same_slot()
    {
        // A 16-slot ring: version 1 and version 17 share a slot.
        var journal = new ChangeJournal(16, 0, () => 1);
        var route = Route.Create(P, _learned, _bgp);
        var entry = RouteEntry.Seal(P, route, 1);
        journal.Append(entry, 7, 1);
        Assert.True(journal.TryGet(1, out var added));
        Assert.False(added.IsRemoval);
        Assert.Same(route, added.NewEntry);

        for (var v = 2; v <= 16; v++)
            journal.Append(RouteEntry.Seal(Q, null, v), 8, v);
        journal.AppendRemoval(entry, 7, 17);

        // The slot holds the same object as at version 1; only the tag tells which change it is.
        Assert.False(journal.TryGet(1, out _));
        Assert.True(journal.TryGet(17, out var removed));
        Assert.True(removed.IsRemoval);
        Assert.Equal(P, removed.Prefix);
        Assert.Equal(7, removed.Number);
        Assert.Equal(17, removed.Version);
        Assert.False(journal.TryGet(33, out _));
    }

    [Fact]
    public async Task A_reader_due_for_a_resync_waits_for_a_bulk_change_to_end()
    {
        using var reader = _table.SubscribeJournal("test", 16);
        reader.Resync([]);
        for (var i = 0; i < 40; i++)
            _table.Update(Route.Create(Prefix.FromV4((uint)(0x0A00_0000 + (i << 8)), 24), _learned, _bgp));
        Assert.Equal(0, reader.TryRead(new TableChange[64]));
        Assert.True(reader.NeedsResync);
        Assert.True(_table.BulkChangeDone.IsCompleted);
        await reader.WaitAsync(CancellationToken.None); // none runs: at once

        var bulk = _table.BeginBulkChange();
        var waiting = reader.WaitAsync(CancellationToken.None).AsTask();
        Assert.False(_table.BulkChangeDone.IsCompleted);
        Assert.False(waiting.IsCompleted);
        bulk.Dispose();
        await waiting.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.True(_table.BulkChangeDone.IsCompleted);
        Assert.True(reader.NeedsResync);
    }

    [Fact]
    public void A_bulk_change_ends_with_its_outermost_scope_and_the_bulk_operations_leave_none_open()
    {
        var outer = _table.BeginBulkChange();
        var inner = _table.BeginBulkChange();
        inner.Dispose();
        Assert.False(_table.BulkChangeDone.IsCompleted);
        outer.Dispose();
        Assert.True(_table.BulkChangeDone.IsCompleted);

        for (var i = 0; i < 10; i++)
            _table.Update(Route.Create(Prefix.FromV4((uint)(0x0A00_0000 + (i << 8)), 24), _learned, _bgp));
        using (_table.BeginBatch())
            Assert.Equal(10, _table.MarkStale(_bgp));
        Assert.True(_table.BulkChangeDone.IsCompleted);
        Assert.Equal(10, _table.WithdrawStale(_bgp));
        Assert.True(_table.BulkChangeDone.IsCompleted);
    }
}
