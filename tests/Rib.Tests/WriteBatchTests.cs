using Calico.Bgp.Rib;

namespace Calico.Bgp.Rib.Tests;

/// <summary>
/// A write batch (one UPDATE's prefixes): the table's writer held once for many changes, readers
/// seeing each change at once, the journal's readers woken once at the end, other writers waiting.
/// </summary>
public class WriteBatchTests
{
    private readonly RoutingTable _table = new();
    private readonly TestProtocol _peer;
    private readonly TestProtocol _other;
    private readonly PathAttributes _attrs;

    public WriteBatchTests()
    {
        _peer = new TestProtocol("peer", _table);
        _other = new TestProtocol("other", _table);
        _attrs = _table.Attributes.Intern(new PathAttributes { Source = RouteSource.Bgp, NextHop = IpAddr.Parse("10.0.0.2") });
    }

    private static Prefix P(int i) => Prefix.FromV4(0x0A000000u + ((uint)i << 8), 24);

    // A batch belongs to the thread that began it (the table's lock does), so each test holds its batch
    // in synchronous code: no await between BeginBatch and Dispose.

    [Fact]
    public async Task Readers_see_each_change_at_once_and_the_journal_wakes_them_at_the_end()
    {
        using var reader = _table.SubscribeJournal("test");
        reader.Resync(new List<RouteEntry>());
        var wait = reader.WaitAsync(CancellationToken.None).AsTask();
        void InBatch()
        {
            using var batch = _table.BeginBatch();
            for (var i = 0; i < 100; i++)
                Assert.Equal(RouteUpdate.Added, _table.Update(Route.Create(P(i), _attrs, _peer)));
            Assert.True(_table.Withdraw(P(7), _peer));
            // Lock-free readers need no wake-up: the entries are there already.
            Assert.NotNull(_table.Find(P(99)));
            Assert.Null(_table.Find(P(7)));
            Assert.Equal(101, _table.Version);
            // The journal's readers are not woken while the batch runs.
            Thread.Sleep(50);
            Assert.False(wait.IsCompleted);
        }
        InBatch();
        await wait.WaitAsync(TimeSpan.FromSeconds(10));
        var buffer = new TableChange[200];
        Assert.Equal(101, reader.TryRead(buffer));
        Assert.Equal(P(0), buffer[0].Prefix);
        Assert.Equal(P(7), buffer[100].Prefix);
        Assert.True(buffer[100].Entry.IsEmpty);
    }

    [Fact]
    public async Task Another_writer_waits_for_the_batch_to_end()
    {
        using var started = new ManualResetEventSlim();
        Task<RouteUpdate> InBatch()
        {
            using var batch = _table.BeginBatch();
            _table.Update(Route.Create(P(1), _attrs, _peer));
            var other = Task.Run(() =>
            {
                started.Set();
                return _table.Update(Route.Create(P(1), _attrs, _other));
            });
            Assert.True(started.Wait(TimeSpan.FromSeconds(10)));
            Thread.Sleep(50);
            Assert.False(other.IsCompleted);
            Assert.Equal(1, _table.Find(P(1))!.Count);
            return other;
        }
        var other = InBatch();
        Assert.Equal(RouteUpdate.Added, await other.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(2, _table.Find(P(1))!.Count);
    }

    [Fact]
    public async Task Batches_nest_and_the_outer_one_wakes_the_journal()
    {
        using var reader = _table.SubscribeJournal("test");
        reader.Resync(new List<RouteEntry>());
        var wait = reader.WaitAsync(CancellationToken.None).AsTask();
        void InBatch()
        {
            using var outer = _table.BeginBatch();
            using (_table.BeginBatch())
                _table.Update(Route.Create(P(1), _attrs, _peer));
            _table.Update(Route.Create(P(2), _attrs, _peer));
            Thread.Sleep(50);
            Assert.False(wait.IsCompleted);
        }
        InBatch();
        await wait.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, reader.TryRead(new TableChange[4]));
        Assert.False(_table.Writer.IsHeldByCurrentThread);
        // Released: another thread can write.
        Assert.Equal(RouteUpdate.Added, await Task.Run(() => _table.Update(Route.Create(P(3), _attrs, _other))));
    }

    [Fact]
    public void A_batch_ended_on_another_thread_is_an_error_and_the_batch_still_holds()
    {
        var batch = _table.BeginBatch();
        Exception? thrown = null;
        var thread = new Thread(() => thrown = Record.Exception(batch.Dispose));
        thread.Start();
        thread.Join();
        Assert.IsType<SynchronizationLockException>(thrown);
        Assert.True(_table.Writer.IsHeldByCurrentThread);
        batch.Dispose();
        Assert.False(_table.Writer.IsHeldByCurrentThread);
    }

    [Fact]
    public void A_bulk_removal_wakes_the_readers_every_few_thousand_changes_but_not_inside_the_callers_batch()
    {
        for (var i = 0; i < 10_000; i++)
            _table.Update(Route.Create(P(i), _attrs, _peer));
        using var reader = _table.SubscribeJournal("test", capacity: 1 << 16);
        reader.Resync(new List<RouteEntry>());
        var buffer = new TableChange[20_000];

        // Alone: woken as it goes (so readers on another core work meanwhile), not once per change.
        var before = _table.JournalWakes;
        Assert.Equal(10_000, _table.WithdrawAll(_peer));
        Assert.InRange(_table.JournalWakes - before, 2, 4);
        Assert.Equal(10_000, reader.TryRead(buffer));
        Assert.All(buffer[..10_000], c => Assert.True(c.Entry.IsEmpty));

        // Inside the caller's batch it leaves the wake-up to the batch's end: one for everything.
        for (var i = 0; i < 10_000; i++)
            _table.Update(Route.Create(P(i), _attrs, _other));
        Assert.Equal(10_000, reader.TryRead(buffer));
        before = _table.JournalWakes;
        using (_table.BeginBatch())
        {
            Assert.Equal(10_000, _table.WithdrawAll(_other));
            Assert.Equal(before, _table.JournalWakes);
        }
        Assert.Equal(before + 1, _table.JournalWakes);
        Assert.Equal(10_000, reader.TryRead(buffer));
    }
}
