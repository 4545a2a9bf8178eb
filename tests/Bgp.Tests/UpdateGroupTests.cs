using System.Net;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Export;
using Calico.Bgp.Speaker.Session;
using Calico.Bgp.Speaker.Wire;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>Update groups and ADD-PATH send against scripted peers on loopback addresses 127.0.0.x.</summary>
public class UpdateGroupTests
{
    private sealed class Peers : IAsyncDisposable
    {
        public List<BgpProtocol> Protocols { get; } = [];
        public List<ScriptedPeer> Remote { get; } = [];
        public List<System.Net.Sockets.Socket> Listeners { get; } = [];

        public async ValueTask DisposeAsync()
        {
            foreach (var p in Protocols)
                await p.StopAsync(CancellationToken.None);
            foreach (var r in Remote)
                await r.DisposeAsync();
            foreach (var l in Listeners)
                l.Dispose();
        }
    }

    private static async Task<Peers> StartAsync(RoutingTable table, UpdateGroupRegistry? registry, int count, AddPathMode addPath = AddPathMode.None, int receiveBuffer = 0, RouteFilter? export = null)
    {
        var peers = new Peers();
        for (var i = 0; i < count; i++)
        {
            var address = $"127.0.0.{i + 2}";
            var l = ScriptedPeer.Listen(address, receiveBuffer);
            peers.Listeners.Add(l);
            var bgp = new BgpProtocol(new BgpProtocolOptions
            {
                Name = "peer" + i,
                RouterId = 0x0A000001,
                LocalAs = 64512,
                PeerAs = 64513,
                NeighborAddress = IpAddr.Parse(address),
                NeighborPort = ((IPEndPoint)l.LocalEndPoint!).Port,
                SourceAddress = IpAddr.Parse("127.0.0.1"),
                ExportFilter = export ?? RouteFilter.AcceptAll,
                ConnectDelayTime = 0,
                AddPaths = addPath,
            }, table, TimeProvider.System, NullLoggerFactory.Instance, null, registry);
            peers.Protocols.Add(bgp);
            await bgp.StartAsync(CancellationToken.None);
            var remote = await ScriptedPeer.AcceptAsync(l);
            peers.Remote.Add(remote);
            await remote.HandshakeAsync(64513, 0x0A0000F0u + (uint)i, ScriptedPeer.Caps(addPath == AddPathMode.None ? AddPathMode.None : AddPathMode.Rx, 64513));
            Assert.True(ScriptedPeer.IsEndOfRib(await remote.ReadUntilAsync(MessageType.Update)));
        }
        return peers;
    }

    /// <summary>Reads UPDATEs until <paramref name="done"/> holds for the paths they add up to.</summary>
    private static async Task<List<byte[]>> ReadUpdatesAsync(ScriptedPeer peer, HashSet<Nlri> paths, bool addPath, Func<HashSet<Nlri>, bool> done)
    {
        var messages = new List<byte[]>();
        while (!done(paths))
        {
            var m = await peer.ReadUntilAsync(MessageType.Update);
            messages.Add(m);
            ScriptedPeer.Apply(paths, m, addPath);
        }
        return messages;
    }

    [Fact]
    public async Task Three_peers_of_one_policy_get_identical_bytes_encoded_once()
    {
        var table = new RoutingTable();
        var stat = new TestStatic(table);
        var registry = new UpdateGroupRegistry();
        await using var peers = await StartAsync(table, registry, 3);
        Assert.Equal(1, registry.GroupCount);
        Assert.Equal(3, registry.Describe()[0].Count);

        var before = registry.EncodedMessages;
        for (var i = 0; i < 2000; i++)
            stat.AddBlackhole($"10.{i >> 8}.{i & 255}.0/24");
        var streams = new List<List<byte[]>>();
        foreach (var r in peers.Remote)
            streams.Add(await ReadUpdatesAsync(r, [], false, p => p.Count == 2000));
        var encoded = registry.EncodedMessages - before;
        Assert.Equal(encoded, streams[0].Count);
        for (var i = 1; i < 3; i++)
            Assert.Equal(streams[0].SelectMany(b => b), streams[i].SelectMany(b => b));
        Assert.All(peers.Protocols, p => Assert.Equal(2000, p.Stats.Exported));

        // Withdrawals too: encoded once, the same bytes to all.
        before = registry.EncodedMessages;
        for (var i = 0; i < 100; i++)
            table.Withdraw(Prefix.Parse($"10.0.{i}.0/24"), stat);
        var withdrawn = new List<List<byte[]>>();
        foreach (var r in peers.Remote)
        {
            var paths = new HashSet<Nlri>(Enumerable.Range(0, 2000).Select(i => new Nlri(Prefix.Parse($"10.{i >> 8}.{i & 255}.0/24"))));
            withdrawn.Add(await ReadUpdatesAsync(r, paths, false, p => p.Count == 1900));
        }
        Assert.Equal(registry.EncodedMessages - before, withdrawn[0].Count);
        Assert.Equal(withdrawn[0].SelectMany(b => b), withdrawn[2].SelectMany(b => b));
    }

    [Fact]
    public async Task A_pass_of_many_attribute_sets_reaches_each_member_as_one_slice()
    {
        var table = new RoutingTable();
        var stat = new TestStatic(table);
        var registry = new UpdateGroupRegistry();
        await using var peers = await StartAsync(table, registry, 3);
        var members = peers.Protocols.Select(p => p.UpdateGroupMember!).ToArray();
        var group = members[0].Group;
        long passes;
        long[] before;
        lock (group.Sync)
            (passes, before) = (group.EmittedPasses, [.. members.Select(m => m.SharedQueued)]);

        // 3,000 routes interleaving 30 attribute sets: most passes hold many batches, one per set.
        for (var i = 0; i < 3000; i++)
        {
            var attrs = table.Attributes.Intern(new PathAttributes { Source = RouteSource.Static, Dest = RouteDest.Blackhole, Med = (uint)(i % 30) });
            table.Update(Route.Create(Prefix.Parse($"10.{i >> 8}.{i & 255}.0/24"), attrs, stat));
        }
        foreach (var r in peers.Remote)
            await ReadUpdatesAsync(r, [], false, p => p.Count == 3000);

        // Every batch of a pass targets every member, so each pass is one slice per member, however
        // many batches it held (queued per batch, a member got up to 30 per pass here).
        lock (group.Sync)
        {
            var passCount = group.EmittedPasses - passes;
            Assert.InRange(passCount, 1, 3000);
            for (var i = 0; i < members.Length; i++)
            {
                var slices = members[i].SharedQueued - before[i];
                Assert.True(slices <= passCount, $"{slices} slices for {passCount} passes");
            }
        }
    }

    /// <summary>Exports only prefixes under 10.1.0.0/16.</summary>
    private sealed class UnderFilter : RouteFilter
    {
        public override string Name => "under";
        public override Route? Apply(Route route, AttributeCache cache) =>
            Prefix.Parse("10.1.0.0/16").Contains(route.Prefix.Address) ? route : null;
    }

    [Fact]
    public async Task Outcomes_alike_for_every_member_are_counted_for_each_member_once_per_route()
    {
        var table = new RoutingTable();
        var stat = new TestStatic(table);
        var registry = new UpdateGroupRegistry();
        await using var peers = await StartAsync(table, registry, 3, export: new UnderFilter());
        var before = peers.Protocols.Select(p => (p.Stats.ExportUpdatesFiltered, p.Stats.ExportWithdrawsReceived)).ToArray();

        // 40 routes the filter passes and 25 it refuses, then 10 of the passed ones withdrawn.
        for (var i = 0; i < 40; i++)
            stat.AddBlackhole($"10.1.{i}.0/24");
        for (var i = 0; i < 25; i++)
            stat.AddBlackhole($"10.2.{i}.0/24");
        foreach (var r in peers.Remote)
            await ReadUpdatesAsync(r, [], false, p => p.Count == 40);
        for (var i = 0; i < 10; i++)
            table.Withdraw(Prefix.Parse($"10.1.{i}.0/24"), stat);
        foreach (var r in peers.Remote)
        {
            var paths = new HashSet<Nlri>(Enumerable.Range(0, 40).Select(i => new Nlri(Prefix.Parse($"10.1.{i}.0/24"))));
            await ReadUpdatesAsync(r, paths, false, p => p.Count == 30);
        }

        // The group counts each outcome once per route and adds it to every member when its pass ends
        // (the UPDATEs above came out of those passes, so the counts are in by now).
        for (var i = 0; i < peers.Protocols.Count; i++)
        {
            var stats = peers.Protocols[i].Stats;
            Assert.Equal(25, stats.ExportUpdatesFiltered - before[i].ExportUpdatesFiltered);
            Assert.Equal(10, stats.ExportWithdrawsReceived - before[i].ExportWithdrawsReceived);
            Assert.Equal(30, stats.Exported);
        }
    }

    [Fact]
    public async Task Peers_without_a_shared_registry_are_groups_of_their_own()
    {
        var table = new RoutingTable();
        await using var peers = await StartAsync(table, null, 2);
        Assert.NotSame(peers.Protocols[0].UpdateGroupMember!.Group, peers.Protocols[1].UpdateGroupMember!.Group);
    }

    [Fact]
    public async Task A_slow_member_is_resynced_without_holding_back_the_others()
    {
        var table = new RoutingTable();
        var stat = new TestStatic(table);
        var registry = new UpdateGroupRegistry(maxPendingBytes: 4096);
        await using var peers = await StartAsync(table, registry, 2, receiveBuffer: 4096);
        // In rounds, each read by the fast peer before the next: every round is at least one pass of the
        // group, so the slow member's queue fills with several slices. Fed at once, a group thread that
        // was not scheduled until the end saw every change in one pass, queued one slice (the first
        // slice always fits) and never overflowed (a clean-clone CI run under load).
        const int Rounds = 10, PerRound = 4000;
        var expected = new HashSet<Nlri>();
        var fast = new HashSet<Nlri>();
        for (var r = 0; r < Rounds; r++)
        {
            for (var i = r * PerRound; i < (r + 1) * PerRound; i++)
            {
                var p = $"10.{i >> 8}.{i & 255}.0/24";
                stat.AddBlackhole(p);
                if (i % 4 != 0)
                    expected.Add(new Nlri(Prefix.Parse(p)));
            }
            for (var i = r * PerRound; i < (r + 1) * PerRound; i += 4)
                table.Withdraw(Prefix.Parse($"10.{i >> 8}.{i & 255}.0/24"), stat);
            // Peer 0 reads at once and converges while peer 1 has not read a byte.
            await ReadUpdatesAsync(peers.Remote[0], fast, false, p => p.SetEquals(expected));
        }

        var slow = new HashSet<Nlri>();
        await ReadUpdatesAsync(peers.Remote[1], slow, false, p => p.SetEquals(expected));
        Assert.True(peers.Protocols[1].UpdateGroupMember!.Overflows > 0, "the slow member should have overflowed its queue");
        Assert.True(registry.ResyncMessages > 0);
    }

    /// <summary>Accepts every route, but holds the group's thread on one prefix until released.</summary>
    private sealed class GateFilter(Prefix gate) : RouteFilter
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public ManualResetEventSlim Release { get; } = new();
        public override string Name => "gate";

        public override Route? Apply(Route route, AttributeCache cache)
        {
            if (route.Prefix == gate && !Release.IsSet)
            {
                Entered.TrySetResult();
                Release.Wait(TimeSpan.FromMinutes(2));
            }
            return route;
        }
    }

    /// <summary>One peer whose group reads a journal of 16 changes and can be held in its export filter at <see cref="Gate"/>.</summary>
    private static async Task<HeldGroup> StartHeldAsync()
    {
        var table = new RoutingTable();
        var filter = new GateFilter(Gate);
        var peers = await StartAsync(table, new UpdateGroupRegistry(journalCapacity: 16), 1, export: filter);
        return new HeldGroup(table, new TestStatic(table), filter, peers);
    }

    private sealed record HeldGroup(RoutingTable Table, TestStatic Stat, GateFilter Filter, Peers Peers) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Peers.DisposeAsync();
    }

    private static readonly Prefix Gate = Prefix.Parse("10.255.0.0/24");

    [Fact]
    public async Task A_group_that_falls_off_the_journal_resyncs_to_the_table()
    {
        await using var setup = await StartHeldAsync();
        var (table, stat, filter, peers) = setup;
        var gate = Gate;
        var expected = new HashSet<Nlri>();
        for (var i = 0; i < 100; i++)
        {
            var p = $"10.200.{i}.0/24";
            stat.AddBlackhole(p);
            expected.Add(new Nlri(Prefix.Parse(p)));
        }
        var held = new HashSet<Nlri>();
        await ReadUpdatesAsync(peers.Remote[0], held, false, p => p.SetEquals(expected));

        // The group's thread stops in the filter; meanwhile the table moves far more than 16 changes,
        // including withdrawals of prefixes the peer holds: only a resync can bring those across.
        stat.AddBlackhole(gate.ToString());
        await filter.Entered.Task.WaitAsync(TimeSpan.FromMinutes(1));
        expected.Add(new Nlri(gate));
        for (var i = 0; i < 100; i += 2)
        {
            table.Withdraw(Prefix.Parse($"10.200.{i}.0/24"), stat);
            expected.Remove(new Nlri(Prefix.Parse($"10.200.{i}.0/24")));
        }
        for (var i = 0; i < 5000; i++)
        {
            var p = $"10.{i >> 8}.{i & 255}.0/24";
            stat.AddBlackhole(p);
            if (i % 3 == 0)
                table.Withdraw(Prefix.Parse(p), stat);
            else
                expected.Add(new Nlri(Prefix.Parse(p)));
        }
        filter.Release.Set();

        await ReadUpdatesAsync(peers.Remote[0], held, false, p => p.SetEquals(expected));
        var reader = Assert.Single(table.JournalReaders, r => r.Consumer == "bgp-group");
        Assert.True(reader.OverflowCount > 0, "the held group should have fallen off the journal");
        Assert.Equal(expected.Count, peers.Protocols[0].Stats.Exported);
    }

    /// <summary>
    /// The Adj-RIB-Out is indexed by the table's prefix numbers, and a number the table forgets (its
    /// prefix withdrawn, the tombstone dropped by a rebuild) is given to the next new prefix. While the
    /// group is held, the table withdraws every prefix the peer has and adds as many new ones, which
    /// take the old numbers: the peer must lose every old prefix and get every new one, from the
    /// journal (the group reads on) and from a resync (it fell off), with and without ADD-PATH.
    /// With <paramref name="ipv6Newcomers"/> the table holds both families (`--dual-stack`) and the new
    /// prefixes are IPv6: the IPv4 peer's group keeps no path for them, so only the other family's slot
    /// of a number tells it the IPv4 prefix there is gone.
    /// </summary>
    [Theory]
    [InlineData(0, false, false)]
    [InlineData(16, false, false)]
    [InlineData(0, true, false)]
    [InlineData(16, true, false)]
    [InlineData(0, false, true)]
    [InlineData(16, false, true)]
    public async Task Prefixes_that_take_over_the_numbers_of_withdrawn_ones_replace_them_at_the_peer(int journalCapacity, bool addPath, bool ipv6Newcomers)
    {
        var table = new RoutingTable();
        var stat = new TestStatic(table);
        var gate = Prefix.Parse("10.255.0.0/24");
        var filter = new GateFilter(gate);
        var registry = journalCapacity > 0 ? new UpdateGroupRegistry(journalCapacity: journalCapacity) : new UpdateGroupRegistry();
        await using var peers = await StartAsync(table, registry, 1, addPath ? AddPathMode.Tx : AddPathMode.None, export: filter);
        var id = addPath ? 1u : 0u;
        var expected = new HashSet<Nlri>();
        var oldNumbers = new HashSet<int>();
        for (var i = 0; i < 200; i++)
        {
            var p = Prefix.Parse($"10.1.{i}.0/24");
            stat.AddBlackhole(p.ToString());
            expected.Add(new Nlri(p, id));
            oldNumbers.Add(table.NumberOf(p));
        }
        var held = new HashSet<Nlri>();
        await ReadUpdatesAsync(peers.Remote[0], held, addPath, p => p.SetEquals(expected));

        stat.AddBlackhole(gate.ToString());
        await filter.Entered.Task.WaitAsync(TimeSpan.FromMinutes(1));
        expected.Clear();
        expected.Add(new Nlri(gate, id));
        for (var i = 0; i < 200; i++)
            table.Withdraw(Prefix.Parse($"10.1.{i}.0/24"), stat);
        var reused = 0;
        for (var i = 0; i < 200; i++)
        {
            var p = Prefix.Parse(ipv6Newcomers ? $"2001:db8:{i:x}::/48" : $"10.2.{i}.0/24");
            stat.AddBlackhole(p.ToString());
            if (!ipv6Newcomers)
                expected.Add(new Nlri(p, id));
            reused += oldNumbers.Contains(table.NumberOf(p)) ? 1 : 0;
        }
        // The case under test happened: the new prefixes hold numbers the withdrawn ones had.
        Assert.True(reused >= 150, $"{reused} of 200 new prefixes took a withdrawn prefix's number");
        filter.Release.Set();

        await ReadUpdatesAsync(peers.Remote[0], held, addPath, p => p.SetEquals(expected));
        var reader = Assert.Single(table.JournalReaders, r => r.Consumer == "bgp-group");
        Assert.Equal(journalCapacity > 0, reader.OverflowCount > 0);
        Assert.Equal(expected.Count, peers.Protocols[0].Stats.Exported);
        // Nothing more is coming: a route added now is the next thing the peer hears.
        stat.AddBlackhole("10.3.0.0/24");
        expected.Add(new Nlri(Prefix.Parse("10.3.0.0/24"), id));
        await ReadUpdatesAsync(peers.Remote[0], held, addPath, p => p.Count == expected.Count);
        Assert.Equal(expected, held);
        Assert.Equal(BgpState.Established, peers.Protocols[0].BgpState);
    }

    /// <summary>
    /// A resync bigger than one pass goes out in passes of a journal chunk (a withdrawn full table held
    /// every NLRI and every UPDATE of one pass at once), and every withdrawal still goes before every
    /// announcement: while the group is held, the table withdraws its 10,000 prefixes (the map forgets
    /// them and their numbers), new prefixes take those numbers, and half the old prefixes come back
    /// under new numbers after them. A withdrawal of a returning prefix's old slot in a later pass than
    /// its announcement would leave the peer without it.
    /// </summary>
    [Fact]
    public async Task A_resync_larger_than_a_pass_goes_out_in_passes_withdrawals_first()
    {
        await using var setup = await StartHeldAsync();
        var (table, stat, filter, peers) = setup;
        var gate = Gate;
        var group = peers.Protocols[0].UpdateGroupMember!.Group;
        static Prefix Old(int i) => Prefix.Parse($"10.{1 + (i >> 8)}.{i & 255}.0/24");
        var expected = new HashSet<Nlri>();
        for (var i = 0; i < 10_000; i++)
        {
            stat.AddBlackhole(Old(i).ToString());
            expected.Add(new Nlri(Old(i)));
        }
        var held = new HashSet<Nlri>();
        await ReadUpdatesAsync(peers.Remote[0], held, false, p => p.SetEquals(expected));
        // Read before the group is held: it holds its lock while it waits in the filter.
        long passes;
        lock (group.Sync)
            passes = group.EmittedPasses;

        stat.AddBlackhole(gate.ToString());
        await filter.Entered.Task.WaitAsync(TimeSpan.FromMinutes(1));
        var oldNumbers = Enumerable.Range(0, 10_000).ToDictionary(i => i, i => table.NumberOf(Old(i)));
        expected.Clear();
        expected.Add(new Nlri(gate));
        Assert.Equal(10_000, table.WithdrawAll(stat) - 1); // the gate went too
        stat.AddBlackhole(gate.ToString());
        for (var i = 0; i < 5_000; i++)
        {
            var p = Prefix.Parse($"10.{100 + (i >> 8)}.{i & 255}.0/24");
            stat.AddBlackhole(p.ToString());
            expected.Add(new Nlri(p));
        }
        var renumbered = 0;
        for (var i = 0; i < 10_000; i += 2)
        {
            stat.AddBlackhole(Old(i).ToString());
            expected.Add(new Nlri(Old(i)));
            renumbered += table.NumberOf(Old(i)) != oldNumbers[i] ? 1 : 0;
        }
        // The case under test happened: returning prefixes hold numbers other than those the peer knows.
        Assert.True(renumbered > 4_000, $"only {renumbered} of 5,000 returning prefixes were numbered anew");
        filter.Release.Set();

        await ReadUpdatesAsync(peers.Remote[0], held, false, p => p.SetEquals(expected));
        var reader = Assert.Single(table.JournalReaders, r => r.Consumer == "bgp-group");
        Assert.True(reader.OverflowCount > 0, "the held group should have fallen off the journal");
        lock (group.Sync)
            Assert.True(group.EmittedPasses - passes > 4, $"{group.EmittedPasses - passes} passes for the gate, a resync of 20,000 slots and prefixes, and after");
        Assert.Equal(expected.Count, peers.Protocols[0].Stats.Exported);
        // Nothing more is coming: a route added now is the next thing the peer hears.
        stat.AddBlackhole("10.254.0.0/24");
        expected.Add(new Nlri(Prefix.Parse("10.254.0.0/24")));
        await ReadUpdatesAsync(peers.Remote[0], held, false, p => p.Count == expected.Count);
        Assert.Equal(expected, held);
    }

    /// <summary>
    /// Random churn of two sources over a table whose map keeps forgetting prefixes and giving their
    /// numbers to new ones (most of the table withdrawn, then new prefixes added). Both groups are held
    /// in their export filter for half the rounds, so they meet numbers that changed hands while they
    /// held the old prefix: read from the journal (a long one) or from a resync (a short one they fall
    /// off). A plain peer and an ADD-PATH peer must each end holding exactly what the table has.
    /// </summary>
    [Theory]
    [InlineData(256)]
    [InlineData(1 << 16)]
    public async Task Random_churn_with_prefix_numbers_changing_hands_ends_with_each_peer_holding_the_table(int journalCapacity)
    {
        var table = new RoutingTable();
        var a = new TestStatic(table, "staticA");
        var b = new TestStatic(table, "staticB");
        var gate = Prefix.Parse("10.255.0.0/24");
        var filter = new GateFilter(gate);
        var registry = new UpdateGroupRegistry(journalCapacity: journalCapacity);
        await using var plain = await StartAsync(table, registry, 1, export: filter);
        await using var addPath = await StartAsync(table, registry, 1, AddPathMode.Tx, export: filter);
        var random = new Random(2611);
        var next = 0;
        var live = new List<string>();
        var heldNumbers = new HashSet<int>();
        var reused = 0;
        for (var round = 0; round < 10; round++)
        {
            if (round == 3)
            {
                a.AddBlackhole(gate.ToString());
                live.Add(gate.ToString());
                await filter.Entered.Task.WaitAsync(TimeSpan.FromMinutes(1));
                // What the groups hold while they wait: any of these numbers a new prefix takes is the case under test.
                foreach (var p in live)
                    heldNumbers.Add(table.NumberOf(Prefix.Parse(p)));
            }
            // New prefixes, some from both sources (two paths with ADD-PATH, one best without).
            for (var i = 0; i < 1500; i++)
            {
                var p = $"10.{(next >> 8) & 255}.{next & 255}.0/24";
                next++;
                a.AddBlackhole(p);
                if (random.Next(3) == 0)
                    b.AddBlackhole(p);
                live.Add(p);
                if (round > 3 && round < 8 && heldNumbers.Contains(table.NumberOf(Prefix.Parse(p))))
                    reused++;
            }
            // Most of the table withdrawn, in random order: the map's tombstones outnumber its entries,
            // it rebuilds and frees their numbers for the next round's prefixes.
            foreach (var p in live.Where(p => p != gate.ToString()).OrderBy(_ => random.Next()).Take(live.Count * 4 / 5).ToList())
            {
                table.Withdraw(Prefix.Parse(p), a);
                if (random.Next(2) == 0)
                    table.Withdraw(Prefix.Parse(p), b);
                if (table.Find(Prefix.Parse(p)) is null)
                    live.Remove(p);
            }
            if (round == 7)
                filter.Release.Set();
        }
        Assert.True(reused > 100, $"only {reused} new prefixes took a number the held groups still had");
        var expected = table.Entries.Select(e => new Nlri(e.Prefix)).ToHashSet();
        Assert.Equal(live.Count, expected.Count);
        await ReadUpdatesAsync(plain.Remote[0], [], false, p => p.SetEquals(expected));
        var paths = table.Entries.Sum(e => e.Count);
        await ReadUpdatesAsync(addPath.Remote[0], [], true, p => p.Count == paths && p.Select(n => n.Prefix).ToHashSet().SetEquals(expected.Select(n => n.Prefix)));
        Assert.Equal(journalCapacity < 1000, table.JournalReaders.Any(r => r.Consumer == "bgp-group" && r.OverflowCount > 0));
        Assert.Equal(expected.Count, plain.Protocols[0].Stats.Exported);
        Assert.Equal(paths, addPath.Protocols[0].Stats.Exported);
    }

    [Fact]
    public async Task Add_path_sends_every_route_with_stable_path_ids()
    {
        var table = new RoutingTable();
        var a = new TestStatic(table, "staticA");
        var b = new TestStatic(table, "staticB");
        await using var peers = await StartAsync(table, null, 1, AddPathMode.Tx);
        var remote = peers.Remote[0];
        var prefix = Prefix.Parse("10.9.0.0/24");
        a.AddBlackhole("10.9.0.0/24");
        var paths = new HashSet<Nlri>();
        await ReadUpdatesAsync(remote, paths, true, p => p.Count == 1);
        var first = Assert.Single(paths);
        Assert.Equal(prefix, first.Prefix);
        Assert.NotEqual(0u, first.PathId);

        // A second route for the prefix: a second path, the first keeps its id.
        b.AddBlackhole("10.9.0.0/24");
        await ReadUpdatesAsync(remote, paths, true, p => p.Count == 2);
        Assert.Contains(first, paths);
        var second = paths.Single(p => p != first);

        // The first route goes: the withdrawal names its path id; the second path stays as it was.
        table.Withdraw(prefix, a);
        await ReadUpdatesAsync(remote, paths, true, p => p.Count == 1);
        Assert.Equal(second, Assert.Single(paths));
        Assert.Equal(BgpState.Established, peers.Protocols[0].BgpState);
    }
}
