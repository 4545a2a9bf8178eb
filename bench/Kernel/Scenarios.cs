using System.Diagnostics;
using System.Text;
using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.KernelBench;

/// <summary>The contenders, each in a fresh lab namespace of its own.</summary>
public static class Scenarios
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    /// <summary>A node namespace whose eth0 (172.16.0.1/24) holds every gateway of the run.</summary>
    private static async Task<(TestLab Lab, LabHost Node)> NodeAsync(string name)
    {
        var lab = await TestLab.CreateAsync(name);
        var node = await lab.AddHostAsync("node");
        var peer = await lab.AddHostAsync("peer");
        await lab.ConnectAsync(node, "172.16.0.1/24", peer, "172.16.0.2/24", "eth0", "eth0");
        return (lab, node);
    }

    private static TimeSpan Since(long start, long end) => Stopwatch.GetElapsedTime(start, end);

    /// <summary>Our batched writer alone: every RTM_NEWROUTE, many per sendmsg, an ACK checked for each.</summary>
    public static Task<Measurement> WriterAsync(Shape shape, int routes) => WriterAsync(shape, routes, DeleteOrder.AsAdded);

    /// <summary>The routes the writer rows write: the shape's gateways on eth0, one route per prefix.</summary>
    private static List<KernelRouteSpec> Specs(Shape shape, int routes, int eth0)
    {
        var gateways = shape.Gateways.Select(IpAddr.Parse).ToArray();
        return [.. Enumerable.Range(0, routes).Select(i => new KernelRouteSpec
        {
            Prefix = new Prefix(IpAddr.FromV4(Shape.PrefixBits(i)), 24),
            Gateway = shape.Paths == 1 ? gateways[0] : null,
            OutInterfaceIndex = shape.Paths == 1 ? eth0 : 0,
            NextHops = shape.Paths == 1 ? default : [.. gateways.Select(g => new KernelNextHop(g, eth0))],
        })];
    }

    /// <summary>The writer alone, deleting in <paramref name="order"/> (the kernel's cost per delete may depend on it).</summary>
    public static async Task<Measurement> WriterAsync(Shape shape, int routes, DeleteOrder order)
    {
        var (lab, node) = await NodeAsync("bench-writer");
        await using var _ = lab;
        using var nl = RtNetlinkClient.Open(node.Netns, NexthopObjects);
        var eth0 = (await nl.DumpLinksAsync(CancellationToken.None)).Single(l => l.Name == "eth0").Index;
        var specs = Specs(shape, routes, eth0);
        List<RouteChange> adds = [.. (order == DeleteOrder.RandomBoth ? specs.OrderBy(_ => Random.Shared.Next()) : (IEnumerable<KernelRouteSpec>)specs).Select(RouteChange.Add)];
        List<RouteChange> deletes = [.. Order(specs, order).Select(RouteChange.Delete)];

        TimeSpan install, installCpu, remove, removeCpu;
        await using (await Profiler.StartAsync($"writer-{shape.Paths}-install"))
        {
            var cpu = Cpu.Self();
            var start = Stopwatch.GetTimestamp();
            var added = await nl.ApplyAsync(adds, CancellationToken.None);
            install = Stopwatch.GetElapsedTime(start);
            installCpu = Cpu.Self() - cpu;
            Check(added, "add");
        }
        NetlinkResult[] removed;
        await using (await Profiler.StartAsync($"writer-{shape.Paths}-remove-{order}"))
        {
            var cpu = Cpu.Self();
            var start = Stopwatch.GetTimestamp();
            removed = await nl.ApplyAsync(deletes, CancellationToken.None);
            remove = Stopwatch.GetElapsedTime(start);
            removeCpu = Cpu.Self() - cpu;
        }
        Check(removed, "delete");
        // Its first route goes in with the first sendmsg: first to last is the whole install.
        return new Measurement(shape.Name, order == DeleteOrder.AsAdded ? Writer : $"{Writer}, deleting {order}", routes, install, remove) { InstallCpu = installCpu, RemoveCpu = removeCpu, FirstToLast = install };
    }

    /// <summary>
    /// The writer alone, deleting in a random order, with the route counter listening and timing it as
    /// it times our protocol and BIRD 2 (until the counter has seen the last route come and go; its
    /// CPU read apart). The counter parses every notification on its own thread beside the contender
    /// on the two cores, which the plain writer rows do not pay: this is the floor like for like.
    /// </summary>
    public static async Task<Measurement> WriterCountedAsync(Shape shape, int routes)
    {
        var (lab, node) = await NodeAsync("bench-writerc");
        await using var _ = lab;
        await using var counter = new RouteCounter(node.Netns, shape.Paths);
        using var nl = RtNetlinkClient.Open(node.Netns, NexthopObjects);
        var eth0 = (await nl.DumpLinksAsync(CancellationToken.None)).Single(l => l.Name == "eth0").Index;
        var specs = Specs(shape, routes, eth0);
        List<RouteChange> adds = [.. specs.Select(RouteChange.Add)];
        List<RouteChange> deletes = [.. Order(specs, DeleteOrder.Random).Select(RouteChange.Delete)];

        var cpu = Cpu.Self();
        var counted = counter.Cpu;
        var start = Stopwatch.GetTimestamp();
        Check(await nl.ApplyAsync(adds, CancellationToken.None), "add");
        var installed = await counter.WaitForAsync(routes, Patience);
        var install = Since(start, installed);
        var installCpu = Cpu.Self() - cpu - (counter.Cpu - counted);
        var firstToLast = counter.FirstSeen is > 0 and var first ? Since(first, installed) : install;

        cpu = Cpu.Self();
        counted = counter.Cpu;
        start = Stopwatch.GetTimestamp();
        Check(await nl.ApplyAsync(deletes, CancellationToken.None), "delete");
        var removed = await counter.WaitForAsync(0, Patience);
        var removeCpu = Cpu.Self() - cpu - (counter.Cpu - counted);
        return new Measurement(shape.Name, WriterCounted, routes, install, Since(start, removed)) { InstallCpu = installCpu, RemoveCpu = removeCpu, FirstToLast = firstToLast };
    }

    /// <summary>The routes in the order they are deleted.</summary>
    private static IEnumerable<KernelRouteSpec> Order(List<KernelRouteSpec> specs, DeleteOrder order) => order switch
    {
        DeleteOrder.AsAdded => specs,
        DeleteOrder.Reverse => Enumerable.Reverse(specs),
        // Every other prefix first, then the rest: no node of the kernel's trie empties before the last pass.
        DeleteOrder.Interleaved => specs.Where((_, i) => i % 2 == 0).Concat(specs.Where((_, i) => i % 2 == 1)),
        DeleteOrder.Random or DeleteOrder.RandomBoth => specs.OrderBy(_ => Random.Shared.Next()),
        // As added in runs of 4,096 (the protocol's journal batch), each run shuffled.
        DeleteOrder.ChunkRandom => specs.Chunk(4096).SelectMany(c => c.OrderBy(_ => Random.Shared.Next())),
        DeleteOrder.ChunkSorted => specs.Chunk(4096).SelectMany(c => c.OrderBy(r => Spread(r.Prefix))),
        _ => throw new ArgumentOutOfRangeException(nameof(order)),
    };

    private static void Check(NetlinkResult[] results, string what)
    {
        var failed = results.Count(r => !r.IsOk);
        if (failed > 0)
            throw new InvalidOperationException($"{failed} {what}s failed, first: {results.First(r => !r.IsOk)}");
    }

    public enum DeleteOrder
    {
        AsAdded,
        Reverse,
        Interleaved,
        Random,
        ChunkRandom,
        ChunkSorted,
        // Added in a random order too.
        RandomBoth,
    }

    private static uint Spread(Prefix p) => (uint)p.GetHashCode();

    /// <summary>Our protocol's removal withdraws the prefixes from the lowest up rather than in the table's order (<c>--withdraw ascending</c>).</summary>
    public static bool WithdrawAscending { get; set; }

    /// <summary>
    /// Whether our writer and protocol name kernel nexthop objects (the daemon's default); off
    /// (<c>--inline-nexthops</c>) writes every route with its own gateways, as BIRD does.
    /// </summary>
    public static bool NexthopObjects { get; set; } = true;

    public const string Writer = "our netlink writer (batched, the floor)";
    public const string WriterCounted = "our netlink writer, deleting Random, timed by the route counter";
    public const string ProtocolFed = "our KernelProtocol, table fed while it runs";
    public const string ProtocolFilled = "our KernelProtocol, table filled before its start";
    public const string Bird2 = "BIRD 2 (static → kernel export)";
    public const string Bird2Merge = "BIRD 2 (one static per next hop, merge paths on)";
    public const string ProtocolFedMultipath = "our KernelProtocol, multipath routes, fed while it runs";
    public const string ProtocolFilledMultipath = "our KernelProtocol, multipath routes, filled before its start";

    /// <summary>
    /// Our KernelProtocol fed from a RoutingTable, as the daemon runs it (ECMP by merge paths of N
    /// owners). <paramref name="filled"/>: the table holds every route before the protocol starts
    /// (timed from its start: its initial feed alone, as BIRD 2's static routes are all there when its
    /// kernel protocol starts); otherwise the routes are fed while it runs (timed from the first
    /// update: the feed of 100,000 or 400,000 <c>RoutingTable.Update</c>s is included).
    /// </summary>
    /// <remarks>
    /// <paramref name="multipathRoutes"/>: ECMP as BIRD 2's multipath static routes give it, one owner
    /// whose route per prefix carries every next hop (a static <c>route P multipath via A via B …;</c>),
    /// exported without <c>merge paths</c>: the same input as the <see cref="Bird2"/> row.
    /// </remarks>
    public static async Task<Measurement> KernelProtocolAsync(Shape shape, int routes, bool filled, bool multipathRoutes = false)
    {
        var (lab, node) = await NodeAsync(filled ? "bench-filled" : "bench-fed");
        await using var _ = lab;
        await using var counter = new RouteCounter(node.Netns, shape.Paths);
        var table = new RoutingTable();
        var owners = Enumerable.Range(0, multipathRoutes ? 1 : shape.Paths).Select(i => new BenchPeer(table, $"Mesh_{i}", i)).ToArray();
        var attrs = multipathRoutes
            ? [table.Attributes.Intern(new PathAttributes
            {
                Source = RouteSource.Static,
                Dest = RouteDest.Multipath,
                NextHops = [.. shape.Gateways.Select(g => new MultipathHop(IpAddr.Parse(g), "eth0"))],
            })]
            : shape.Gateways.Select(g => table.Attributes.Intern(new PathAttributes
            {
                Source = RouteSource.Bgp,
                Dest = RouteDest.Router,
                NextHop = IpAddr.Parse(g),
                Gateway = IpAddr.Parse(g),
                KrtTunnel = "",
            })).ToArray();
        var kernel = new KernelProtocol(new KernelProtocolOptions
        {
            Name = "kernel1",
            ExportFilter = RouteFilter.AcceptAll,
            MergePaths = shape.Paths > 1 && !multipathRoutes,
            ScanTime = 60,
            Persist = false,
            // Room for every change of the run (400,000 for ECMP), so a fall behind the journal never
            // turns into a resync of the whole table.
            JournalCapacity = 1 << 20,
            NexthopObjects = NexthopObjects,
        }, table, TimeProvider.System, NullLoggerFactory.Instance, node.Netns);

        void Feed()
        {
            for (var i = 0; i < routes; i++)
            {
                var prefix = new Prefix(IpAddr.FromV4(Shape.PrefixBits(i)), 24);
                for (var o = 0; o < owners.Length; o++)
                    table.Update(Route.Create(prefix, attrs[o], owners[o]));
            }
        }

        var tag = $"{(filled ? "filled" : "fed")}-{shape.Paths}";
        var profile = await Profiler.StartAsync($"{tag}-install");
        long start;
        var cpu = Cpu.Self();
        var counted = counter.Cpu;
        var gc = GcWindow.Start();
        if (filled)
        {
            var feedStart = Stopwatch.GetTimestamp();
            Feed();
            Console.Error.WriteLine($"  feed before the start (not timed): {Stopwatch.GetElapsedTime(feedStart).TotalSeconds:F3} s, {(Cpu.Self() - cpu).TotalSeconds:F3} s of CPU");
            cpu = Cpu.Self();
            counted = counter.Cpu;
            gc = GcWindow.Start();
            start = Stopwatch.GetTimestamp();
            await kernel.StartAsync(CancellationToken.None);
        }
        else
        {
            await kernel.StartAsync(CancellationToken.None);
            cpu = Cpu.Self();
            counted = counter.Cpu;
            start = Stopwatch.GetTimestamp();
            Feed();
            Console.Error.WriteLine($"  feed while running: {Stopwatch.GetElapsedTime(start).TotalSeconds:F3} s, {(Cpu.Self() - cpu).TotalSeconds:F3} s of CPU");
        }
        // When the protocol itself counts every route installed (its results taken in), beside when the
        // route counter has parsed the last notification: the difference is the counter's lag.
        var ownCount = WhenAsync(() => kernel.Counters.RoutesInstalled == routes);
        try
        {
            // Every route must carry all its next hops before the time counts.
            var installed = await counter.WaitForAsync(routes, Patience);
            var install = Since(start, installed);
            // The route counter listens on a thread of its own: its CPU is not the contender's.
            var counterCpu = counter.Cpu - counted;
            var installCpu = Cpu.Self() - cpu - counterCpu;
            var installGc = gc.End();
            Console.Error.WriteLine($"  the protocol counted {routes} installed at {Since(start, await ownCount).TotalSeconds:F3} s (one poll every ~1 ms; with ECMP before the last next hops), the route counter at {Since(start, installed).TotalSeconds:F3} s");
            await profile.DisposeAsync();
            var firstToLast = counter.FirstSeen is > 0 and var first ? Since(first, installed) : install;
            var c = kernel.Counters;
            Console.Error.WriteLine($"  protocol after install: {c.Writes} writes, {c.WriteErrors} refused, {c.Resyncs} resyncs, {c.Scans} scans{(counter.FellBackToDumps ? ", the route counter lost notifications and counted by dumps" : "")}; "
                + $"{installCpu.TotalSeconds:F3} s of CPU (protocol{(filled ? "" : ", feed")}; the route counter's {counterCpu.TotalSeconds:F3} s apart); {installGc}{(installGc.Gen2 > 0 ? GcWindow.LastFull() : "")}");

            // Every prefix loses all its paths at once, in the table's own order (its hash order, as
            // RoutingTable.WithdrawAll walks it when a session goes down; BIRD's `disable static1`
            // flushes its table in its own hash order too), or with --withdraw ascending from the
            // lowest prefix up. The order reaches the kernel: see WriterAsync's delete orders.
            Prefix[] withdrawals = WithdrawAscending
                ? [.. Enumerable.Range(0, routes).Select(i => new Prefix(IpAddr.FromV4(Shape.PrefixBits(i)), 24))]
                : [.. table.Entries.Select(e => e.Prefix)];
            profile = await Profiler.StartAsync($"{tag}-remove");
            cpu = Cpu.Self();
            counted = counter.Cpu;
            gc = GcWindow.Start();
            start = Stopwatch.GetTimestamp();
            ownCount = WhenAsync(() => kernel.Counters.RoutesInstalled == 0);
            foreach (var prefix in withdrawals)
            {
                foreach (var owner in owners)
                    table.Withdraw(prefix, owner);
            }
            var removed = await counter.WaitForAsync(0, Patience);
            var removeCounterCpu = counter.Cpu - counted;
            var removeCpu = Cpu.Self() - cpu - removeCounterCpu;
            var removeGc = gc.End();
            Console.Error.WriteLine($"  the protocol counted 0 installed at {Since(start, await ownCount).TotalSeconds:F3} s, the route counter at {Since(start, removed).TotalSeconds:F3} s");
            await profile.DisposeAsync();
            Console.Error.WriteLine($"  removal: {removeCpu.TotalSeconds:F3} s of CPU (protocol, withdrawals; the route counter's {removeCounterCpu.TotalSeconds:F3} s apart); {removeGc}{(removeGc.Gen2 > 0 ? GcWindow.LastFull() : "")}");
            var contender = multipathRoutes ? (filled ? ProtocolFilledMultipath : ProtocolFedMultipath) : (filled ? ProtocolFilled : ProtocolFed);
            return new Measurement(shape.Name, contender, routes, install, Since(start, removed))
            {
                InstallCpu = installCpu,
                RemoveCpu = removeCpu,
                FirstToLast = firstToLast,
            };
        }
        finally
        {
            await profile.DisposeAsync();
            await kernel.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>When <paramref name="done"/> first holds (Stopwatch ticks), polled about every millisecond on a thread of its own.</summary>
    private static Task<long> WhenAsync(Func<bool> done) => Task.Factory.StartNew(() =>
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(Patience.TotalSeconds * Stopwatch.Frequency);
        while (!done() && Stopwatch.GetTimestamp() < deadline)
            Thread.Sleep(1);
        return Stopwatch.GetTimestamp();
    }, TaskCreationOptions.LongRunning);

    /// <summary>BIRD 2: a static protocol with the routes and a kernel protocol exporting all; timed from its start.</summary>
    public static Task<Measurement> Bird2Async(Shape shape, int routes) => Bird2Async(shape, routes, merge: false);

    /// <summary>
    /// BIRD 2 timed from its start. <paramref name="merge"/> false: one static protocol whose routes
    /// carry every next hop (a multipath static route, one route per prefix); true: one static
    /// protocol per next hop and the kernel protocol's <c>merge paths on</c>, the same input as our
    /// protocol's (N routes per prefix from N owners, merged on export, as Calico's BGP paths are).
    /// </summary>
    public static async Task<Measurement> Bird2Async(Shape shape, int routes, bool merge)
    {
        var (lab, node) = await NodeAsync(merge ? "bench-bird2m" : "bench-bird2");
        await using var _ = lab;
        await using var counter = new RouteCounter(node.Netns, shape.Paths);
        var config = new StringBuilder($$"""
            router id 172.16.0.1;
            protocol device { scan time 10; }
            protocol kernel kernel1 { {{(merge ? "merge paths on; " : "")}}ipv4 { export all; }; }

            """);
        var statics = merge ? shape.Gateways.Select(g => $"via {g}").ToArray() : [string.Join(' ', shape.Gateways.Select(g => $"via {g}"))];
        for (var p = 0; p < statics.Length; p++)
        {
            config.Append("protocol static static").Append(p + 1).Append(" {\n  ipv4;\n");
            for (var i = 0; i < routes; i++)
                config.Append("  route ").Append(Shape.PrefixText(i)).Append(' ').Append(statics[p]).Append(";\n");
            config.Append("}\n");
        }
        var path = node.WriteFile("bird2.conf", config.ToString());
        var socket = Path.Combine(node.Dir, "bird2.ctl");

        var self = counter.Cpu;
        var start = Stopwatch.GetTimestamp();
        var bird = node.Start("bird2", LabTools.Bird2, ["-f", "-c", path, "-s", socket]);
        var installed = await counter.WaitForAsync(routes, Patience);
        var install = Since(start, installed);
        // BIRD's own CPU since it started: config parse, static, kernel export and its sendmsg work.
        var installCpu = Cpu.Of(bird.Pid);
        var firstToLast = counter.FirstSeen is > 0 and var first ? Since(first, installed) : install;
        Console.Error.WriteLine($"  bench process during BIRD 2's install (the route counter's share): {(counter.Cpu - self).TotalSeconds:F3} s of CPU");

        start = Stopwatch.GetTimestamp();
        // Every static protocol in one command (a pattern), so BIRD flushes them in one go.
        (await Shell.RunAsync(LabTools.Bird2Client, "-s", socket, "disable", "\"static*\"")).ThrowIfFailed("birdc disable static*");
        var removed = await counter.WaitForAsync(0, Patience);
        var remove = Since(start, removed);
        var removeCpu = Cpu.Of(bird.Pid) - installCpu;
        await bird.StopAsync();
        return new Measurement(shape.Name, merge ? Bird2Merge : Bird2, routes, install, remove) { InstallCpu = installCpu, RemoveCpu = removeCpu, FirstToLast = firstToLast };
    }

    /// <summary><c>ip -batch</c>: iproute2 reading the adds (then the deletes) from a file, one request and ACK at a time.</summary>
    public static async Task<Measurement> IpBatchAsync(Shape shape, int routes)
    {
        var (lab, node) = await NodeAsync("bench-ip");
        await using var _ = lab;
        var hops = shape.Paths == 1 ? $"via {shape.Gateways[0]}" : string.Join(' ', shape.Gateways.Select(g => $"nexthop via {g}"));
        var adds = new StringBuilder();
        var dels = new StringBuilder();
        for (var i = 0; i < routes; i++)
        {
            adds.Append("route add ").Append(Shape.PrefixText(i)).Append(" proto bird ").Append(hops).Append('\n');
            dels.Append("route del ").Append(Shape.PrefixText(i)).Append(" proto bird\n");
        }
        var addFile = node.WriteFile("add.batch", adds.ToString());
        var delFile = node.WriteFile("del.batch", dels.ToString());

        var cpu = Cpu.Children();
        var start = Stopwatch.GetTimestamp();
        (await Shell.RunAsync("ip", ["-n", node.Netns, "-batch", addFile], Patience)).ThrowIfFailed("ip -batch add");
        var install = Stopwatch.GetElapsedTime(start);
        var installCpu = Cpu.Children() - cpu;
        cpu = Cpu.Children();
        start = Stopwatch.GetTimestamp();
        (await Shell.RunAsync("ip", ["-n", node.Netns, "-batch", delFile], Patience)).ThrowIfFailed("ip -batch del");
        var remove = Stopwatch.GetElapsedTime(start);
        return new Measurement(shape.Name, "ip -batch (iproute2)", routes, install, remove) { InstallCpu = installCpu, RemoveCpu = Cpu.Children() - cpu, FirstToLast = install };
    }

    /// <summary>Stands in for a BGP session owning routes (an iBGP peer identity of its own, so its routes merge).</summary>
    private sealed class BenchPeer(RoutingTable table, string name, int index) : Protocol(name, table, TimeProvider.System, 100)
    {
        public override string TypeName => "BGP";
        public override BgpPeerIdentity? BgpPeer { get; } = new(IpAddr.FromV4(0xAC100002u + (uint)index), 0xAC100002u + (uint)index, false);
        public override Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public override Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
