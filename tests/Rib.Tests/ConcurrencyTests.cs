using Calico.Bgp.Rib;

namespace Calico.Bgp.Rib.Tests;

/// <summary>
/// Several writer threads (serialised by the table) against lock-free readers: lookups and
/// enumerations never see a torn entry, and every journal reader sees every change exactly once, in
/// order, or falls behind, resyncs and still ends in the table's state.
/// </summary>
public class ConcurrencyTests
{
    private const int Writers = 3;
    private const int OpsPerWriter = 30_000;
    private const int Prefixes = 64;

    private readonly RoutingTable _table = new();

    [Fact]
    public async Task Writers_and_readers_hammer_one_table()
    {
        var prefixes = Enumerable.Range(0, Prefixes).Select(i => new Prefix(IpAddr.FromV4(0x0A000000u + ((uint)i << 8)), 24)).ToArray();
        // One neighbouring AS for every route, so MED is always compared and the order is a total one.
        var attrs = Enumerable.Range(0, 8).Select(i => _table.Attributes.Intern(new PathAttributes
        {
            Source = RouteSource.Bgp,
            Origin = BgpOrigin.Igp,
            AsPath = AsPath.FromSequence([.. Enumerable.Repeat(65001u, 1 + i % 2)]),
            LocalPref = 100u + (uint)(i % 3),
            Med = (uint)(i / 4),
        })).ToArray();
        var protocols = Enumerable.Range(0, Writers * 2).Select(i =>
            new TestProtocol($"peer{i}", _table, 100, new BgpPeerIdentity(IpAddr.FromV4(0x0B000000u + (uint)i), (uint)i + 1, i % 2 == 0))).ToArray();

        // Readers subscribe before the first write, so the initial resync is of an empty table and
        // every change they read can be checked against the one before it.
        var readers = new[]
        {
            _table.SubscribeJournal("fast"),
            _table.SubscribeJournal("fast2", capacity: 4096),
            _table.SubscribeJournal("slow", capacity: 64),
        };
        using var done = new CancellationTokenSource();
        var writersDone = false;
        // Every reader and writer has a thread of its own, and the writers wait until every reader runs,
        // so they really do overlap however few cores the pool has.
        using var started = new CountdownEvent(readers.Length + 2);
        var journalTasks = readers.Select((r, i) => OnThread(() =>
        {
            started.Signal();
            return ReadJournal(r, slow: i == 2, () => Volatile.Read(ref writersDone), done.Token);
        })).ToArray();
        var lookupTasks = Enumerable.Range(0, 2).Select(seed => OnThread(() =>
        {
            started.Signal();
            LookUp(prefixes, seed, () => Volatile.Read(ref writersDone));
            return true;
        })).ToArray();
        started.Wait();

        var writerTasks = Enumerable.Range(0, Writers).Select(w => OnThread(() =>
        {
            var rng = new Random(w);
            var mine = protocols.AsSpan(w * 2, 2).ToArray();
            for (var i = 0; i < OpsPerWriter; i++)
            {
                var p = prefixes[rng.Next(Prefixes)];
                var proto = mine[rng.Next(2)];
                switch (rng.Next(10))
                {
                    case 0:
                        _table.Withdraw(p, proto);
                        break;
                    case 1 when i % 1000 == 0:
                        _table.MarkStale(proto);
                        break;
                    case 2 when i % 1000 == 1:
                        _table.WithdrawStale(proto);
                        break;
                    case 3 when i % 1000 == 2:
                        _table.WithdrawAll(proto);
                        break;
                    default:
                        _table.Update(Route.Create(p, attrs[rng.Next(attrs.Length)], proto, pathId: (uint)rng.Next(2)));
                        break;
                }
            }
            return true;
        })).ToArray();
        await Task.WhenAll(writerTasks);
        Volatile.Write(ref writersDone, true);
        await done.CancelAsync();
        await Task.WhenAll(lookupTasks);
        var finals = await Task.WhenAll(journalTasks);

        var expected = _table.Entries.ToDictionary(e => e.Prefix);
        foreach (var state in finals)
        {
            Assert.Equal(expected.Count, state.Count);
            foreach (var (prefix, entry) in expected)
                Assert.Same(entry, state[prefix]);
        }
        foreach (var r in readers)
            r.Dispose();
    }

    private static Task<T> OnThread<T>(Func<T> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>Applies the journal to a map of its own and returns it once the writers are done and it has caught up.</summary>
    private Dictionary<Prefix, RouteEntry> ReadJournal(JournalReader reader, bool slow, Func<bool> writersDone, CancellationToken done)
    {
        var state = new Dictionary<Prefix, RouteEntry>();
        var numbers = new Dictionary<Prefix, int>();
        var owners = new Dictionary<int, Prefix>();
        var snapshot = new List<RouteEntry>();
        // The slow reader takes few changes at a time and naps after each batch, so it falls behind.
        var buffer = new TableChange[slow ? 8 : 128];
        var trusted = false; // true while every change since an empty start has been read
        var firstResync = true;
        while (true)
        {
            if (reader.NeedsResync)
            {
                reader.Resync(snapshot);
                state = snapshot.ToDictionary(e => e.Prefix);
                trusted = firstResync && state.Count == 0;
                firstResync = false;
                continue;
            }
            var expectedVersion = reader.Position;
            var n = reader.TryRead(buffer);
            for (var i = 0; i < n; i++)
            {
                var c = buffer[i];
                // Exactly once and in order: consecutive versions from the cursor.
                Assert.Equal(expectedVersion + i, c.Version);
                AssertWellFormed(c.Entry);
                state.TryGetValue(c.Prefix, out var had);
                if (had is not null && had.Version >= c.Version)
                {
                    // A state the resync snapshot already had: only the entry at that very version is the same object.
                    if (had.Version == c.Version)
                        Assert.Same(had, c.Entry);
                    continue;
                }
                if (trusted)
                {
                    // A live prefix keeps its number; a number changes hands only after its last
                    // holder's removal, which a reader that saw every change has seen before.
                    if (had is not null)
                        Assert.Equal(numbers[c.Prefix], c.Number);
                    if (owners.TryGetValue(c.Number, out var owner) && owner != c.Prefix)
                        Assert.False(state.ContainsKey(owner), $"#{c.Number} went to {c.Prefix} while {owner} held it");
                    owners[c.Number] = c.Prefix;
                    numbers[c.Prefix] = c.Number;
                }
                if (c.Entry.IsEmpty)
                    state.Remove(c.Prefix);
                else
                    state[c.Prefix] = c.Entry;
            }
            if (n > 0)
            {
                if (slow)
                    Thread.Sleep(1);
                continue;
            }
            if (reader.NeedsResync)
                continue;
            if (writersDone() && reader.Position > _table.Version)
                return state;
            try
            {
                reader.WaitAsync(done).AsTask().GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                // The writers are done: drain without waiting.
            }
        }
    }

    private void LookUp(Prefix[] prefixes, int seed, Func<bool> writersDone)
    {
        var rng = new Random(seed);
        var round = 0;
        while (!writersDone())
        {
            if (_table.Find(prefixes[rng.Next(prefixes.Length)]) is { } entry)
                AssertWellFormed(entry);
            if (++round % 256 == 0)
            {
                foreach (var e in _table.Entries)
                    AssertWellFormed(e);
            }
        }
    }

    /// <summary>No torn entry: routes ordered by the decision process, the best first, all of the entry's prefix.</summary>
    private static void AssertWellFormed(RouteEntry entry)
    {
        if (entry.IsEmpty)
        {
            Assert.Null(entry.Best);
            return;
        }
        Assert.Same(entry.Routes[0], entry.Best);
        for (var i = 0; i < entry.Routes.Length; i++)
        {
            Assert.Equal(entry.Prefix, entry.Routes[i].Prefix);
            if (i > 0)
                Assert.True(DecisionProcess.Compare(entry.Routes[i - 1], entry.Routes[i]) <= 0, $"{entry.Prefix}: routes out of order at {i}");
        }
    }
}
