using System.Buffers.Binary;
using System.Diagnostics;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Lab;
using Calico.Bgp.Rib;

namespace Calico.Bgp.KernelBench;

/// <summary>
/// A what-if floor (only with <c>--only writer-nhid</c>): the same batched writer, but every route
/// refers to a kernel nexthop object (RTA_NH_ID, Linux 5.3+; one group of the shape's gateways)
/// instead of carrying its gateways (RTA_GATEWAY / RTA_MULTIPATH). The kernel then builds no next hops
/// of its own per route (no gateway check, no per-CPU caches to allocate and free when the route's
/// fib_info turns out to be shared). Neither BIRD 1.6 nor BIRD 2 writes routes this way, and the
/// daemon does not: this measures what the change would be worth, nothing more.
/// </summary>
public static class NexthopObjectWriter
{
    public const string Name = "our netlink writer with a nexthop object (RTA_NH_ID, what-if floor), deleting Random";

    // include/uapi/linux/rtnetlink.h: RTA_NH_ID (u32).
    private const ushort RtaNhId = 30;
    private const uint GroupId = 100;

    public static async Task<Measurement> RunAsync(Shape shape, int routes)
    {
        var lab = await TestLab.CreateAsync("bench-nhid");
        await using var _ = lab;
        var node = await lab.AddHostAsync("node");
        var peer = await lab.AddHostAsync("peer");
        await lab.ConnectAsync(node, "172.16.0.1/24", peer, "172.16.0.2/24", "eth0", "eth0");
        for (var i = 0; i < shape.Gateways.Count; i++)
            (await node.IpAsync("nexthop", "add", "id", $"{i + 1}", "via", shape.Gateways[i], "dev", "eth0")).ThrowIfFailed("nexthop add");
        var id = 1u;
        if (shape.Paths > 1)
        {
            (await node.IpAsync("nexthop", "add", "id", $"{GroupId}", "group", string.Join('/', Enumerable.Range(1, shape.Gateways.Count)))).ThrowIfFailed("nexthop group add");
            id = GroupId;
        }
        using var nl = RtNetlinkClient.Open(node.Netns);
        var prefixes = Enumerable.Range(0, routes).Select(i => new Prefix(IpAddr.FromV4(Shape.PrefixBits(i)), 24)).ToArray();

        var cpu = Cpu.Self();
        var start = Stopwatch.GetTimestamp();
        var failed = await AddAllAsync(nl.Socket, prefixes, id);
        var install = Stopwatch.GetElapsedTime(start);
        var installCpu = Cpu.Self() - cpu;
        if (failed > 0)
            throw new InvalidOperationException($"{failed} adds with a nexthop object failed");

        // Deleted as our writer's floor deletes (a scattered order): a delete names no next hop.
        List<RouteChange> deletes = [.. prefixes.OrderBy(_ => Random.Shared.Next()).Select(p => RouteChange.Delete(new KernelRouteSpec { Prefix = p }))];
        cpu = Cpu.Self();
        start = Stopwatch.GetTimestamp();
        var removed = await nl.ApplyAsync(deletes, CancellationToken.None);
        var remove = Stopwatch.GetElapsedTime(start);
        var removeCpu = Cpu.Self() - cpu;
        if (removed.Count(r => !r.IsOk) is var n && n > 0)
            throw new InvalidOperationException($"{n} deletes failed, first: {removed.First(r => !r.IsOk)}");
        return new Measurement(shape.Name, Name, routes, install, remove) { InstallCpu = installCpu, RemoveCpu = removeCpu, FirstToLast = install };
    }

    /// <summary>The adds, ~64 KiB per sendmsg with an ACK on the last (as <see cref="RtNetlinkClient.ApplyAsync"/>); returns how many failed.</summary>
    private static async Task<int> AddAllAsync(NetlinkSocket socket, Prefix[] prefixes, uint nexthopId)
    {
        using var w = new NetlinkWriter(RtNetlinkClient.BatchBytes + 4096);
        var buffer = NetlinkSocket.RentReceiveBuffer();
        var failed = 0;
        try
        {
            var at = 0;
            while (at < prefixes.Length)
            {
                w.Clear();
                var first = socket.ReserveSequence(prefixes.Length - at);
                var end = at;
                while (end < prefixes.Length && w.Length < RtNetlinkClient.BatchBytes)
                {
                    w.BeginMessage(Rtnl.NewRoute, Nl.FRequest | Nl.FCreate | Nl.FExcl, first + (uint)(end - at));
                    var m = w.Reserve(Rtnl.RtMsgLength);
                    m[0] = Rtnl.AfInet;
                    m[1] = prefixes[end].Length;
                    m[4] = Rtnl.TableMain;
                    m[5] = Rtnl.ProtoBird;
                    m[6] = 0; // RT_SCOPE_UNIVERSE
                    m[7] = 1; // RTN_UNICAST
                    w.AttributeAddress(Rtnl.RtaDst, prefixes[end].Address);
                    w.AttributeU32(Rtnl.RtaTable, Rtnl.TableMain);
                    w.AttributeU32(RtaNhId, nexthopId);
                    w.EndMessage();
                    end++;
                }
                w.AddFlagsToLastMessage(Nl.FAck);
                await socket.SendAsync(w.Written, CancellationToken.None);
                var last = first + (uint)(end - at - 1);
                var done = false;
                while (!done)
                {
                    var n = await socket.ReceiveAsync(buffer, CancellationToken.None);
                    foreach (var msg in new NetlinkMessageReader(buffer.AsSpan(0, n)))
                    {
                        if (msg.Type != Nl.Error)
                            continue;
                        var r = NetlinkResult.Parse(msg);
                        if (!r.IsOk)
                            failed++;
                        done |= msg.Sequence == last;
                    }
                }
                at = end;
            }
            return failed;
        }
        finally
        {
            NetlinkSocket.ReturnReceiveBuffer(buffer);
        }
    }
}
