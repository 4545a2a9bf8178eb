namespace Calico.Bgp.Fib.Netlink;

/// <summary>
/// Request/reply rtnetlink over one <see cref="NetlinkSocket"/>: batched route writes whose failures
/// are matched to their requests by sequence number, and dumps read until NLMSG_DONE (restarted when the kernel
/// flags NLM_F_DUMP_INTR). One operation at a time.
/// </summary>
public sealed partial class RtNetlinkClient : IRouteNetlink
{
    /// <summary>
    /// Bytes of requests per sendmsg: well under the socket's send buffer (netlink_sendmsg refuses
    /// a message larger than sk_sndbuf) and small enough that the ACKs fit the receive buffer.
    /// </summary>
    public const int BatchBytes = 64 * 1024;

    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(30);
    private const int DumpAttempts = 5;

    private readonly NetlinkSocket _socket;
    private readonly string? _netns;
    private readonly SemaphoreSlim _gate = new(1, 1);
    // The next hops of the route being read in a streamed dump (one operation at a time, under _gate).
    private readonly List<KernelNextHop> _hops = [];

    /// <summary>
    /// A client over <paramref name="socket"/>; listeners are opened in <paramref name="netns"/> (null: the
    /// current namespace). <paramref name="nexthopObjects"/>: routes with gateways name shared nexthop
    /// objects where the kernel has them (<see cref="NexthopRegistry"/>).
    /// </summary>
    public RtNetlinkClient(NetlinkSocket socket, string? netns = null, bool nexthopObjects = false)
    {
        _socket = socket;
        _netns = netns;
        _nexthops = nexthopObjects ? new NexthopRegistry() : null;
    }

    /// <summary>Opens a client on a new socket (in <paramref name="netns"/> when given, for tests).</summary>
    public static RtNetlinkClient Open(string? netns = null, bool nexthopObjects = false) => new(NetlinkSocket.Open(netns), netns, nexthopObjects);

    public NetlinkSocket Socket => _socket;

    public uint PortId => _socket.PortId;

    public INetlinkListener? OpenListener(IReadOnlyList<int> groups)
    {
        var listener = NetlinkSocket.Open(_netns, groups);
        // Our own writes come back as notifications, one datagram per route: dropped in the kernel.
        listener.TryIgnorePort(_socket.PortId);
        return listener;
    }

    /// <summary>
    /// Writes the changes, many per sendmsg. Only the last request of each sendmsg asks for an ACK:
    /// the kernel answers every request that fails with NLMSG_ERROR whether or not it asked for one
    /// (netlink_rcv_skb acks when NLM_F_ACK is set or the handler returned an error), handles the
    /// requests of one sendmsg in order within the call, and queues its answers in order; so once
    /// the last request's ACK (or error) is read, every failure before it has been read too, and a
    /// request with no answer succeeded. That is one reply per sendmsg instead of one per route. A
    /// reply the kernel could not queue (receive buffer full) makes the receive fail with ENOBUFS,
    /// which surfaces as a <see cref="NetlinkException"/>: the outcome is then unknown, never assumed.
    /// </summary>
    public async Task<NetlinkResult[]> ApplyAsync(IReadOnlyList<RouteChange> changes, CancellationToken cancellationToken)
    {
        if (changes.Count == 0)
            return [];
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        using var writer = new NetlinkWriter(BatchBytes + 4096);
        var buffer = NetlinkSocket.RentReceiveBuffer();
        uint[]? nexthopIds = null;
        try
        {
            if (_nexthops is not null)
                nexthopIds = await PlanNexthopsAsync(changes, writer, buffer, cancellationToken).ConfigureAwait(false);
            return await WriteRequestsAsync(changes.Count, (w, i, seq) =>
            {
                var c = changes[i];
                if (c.Kind == RouteChangeKind.Delete)
                    RouteMessage.WriteDelete(w, c.Route, seq, ack: false);
                else
                    RouteMessage.WriteAdd(w, c.Route, seq, replace: c.Kind == RouteChangeKind.Replace, ack: false, nexthopId: nexthopIds is null ? 0 : nexthopIds[i]);
            }, writer, buffer, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (nexthopIds is not null)
                System.Buffers.ArrayPool<uint>.Shared.Return(nexthopIds);
            NetlinkSocket.ReturnReceiveBuffer(buffer);
            _gate.Release();
        }
    }

    /// <summary>
    /// Writes <paramref name="count"/> requests (<paramref name="write"/> writes request i with its
    /// sequence number), as many per sendmsg as <see cref="BatchBytes"/> holds, and returns each one's answer.
    /// </summary>
    private async Task<NetlinkResult[]> WriteRequestsAsync(int count, Action<NetlinkWriter, int, uint> write, NetlinkWriter writer, byte[] buffer, CancellationToken ct)
    {
        var results = new NetlinkResult[count];
        var start = 0;
        while (start < count)
        {
            writer.Clear();
            var first = _socket.ReserveSequence(count - start);
            var end = start;
            while (end < count && (writer.Length < BatchBytes || end == start))
            {
                write(writer, end, first + (uint)(end - start));
                end++;
            }
            await SendBatchAsync(writer, first, buffer, results.AsMemory(start, end - start), ct).ConfigureAwait(false);
            start = end;
        }
        return results;
    }

    /// <summary>Sends the requests in <paramref name="writer"/> (numbered from <paramref name="first"/>) in one sendmsg and takes in their answers.</summary>
    private async Task SendBatchAsync(NetlinkWriter writer, uint first, byte[] buffer, Memory<NetlinkResult> results, CancellationToken cancellationToken)
    {
        // The barrier: the one request of this sendmsg that is answered even when it succeeds.
        writer.AddFlagsToLastMessage(Nl.FAck);
        await _socket.SendAsync(writer.Written, cancellationToken).ConfigureAwait(false);
        await CollectAcksAsync(buffer, first, results, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads answers until the last request's (the barrier) arrives; a request with no answer succeeded.</summary>
    private async Task CollectAcksAsync(byte[] buffer, uint first, Memory<NetlinkResult> results, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReplyTimeout);
        while (true)
        {
            var n = await _socket.ReceiveAsync(buffer, timeout.Token).ConfigureAwait(false);
            if (MatchReplies(buffer.AsSpan(0, n), first, results.Span))
                return;
        }
    }

    /// <summary>Takes in one datagram of answers; true once the barrier's answer was among them.</summary>
    private static bool MatchReplies(ReadOnlySpan<byte> datagram, uint first, Span<NetlinkResult> results)
    {
        var last = (uint)results.Length - 1;
        var done = false;
        foreach (var m in new NetlinkMessageReader(datagram))
        {
            // Answers to requests of earlier, abandoned batches carry other sequence numbers.
            var i = unchecked(m.Sequence - first);
            if (m.Type != Nl.Error || i > last)
                continue;
            results[(int)i] = NetlinkResult.Parse(m);
            done |= i == last;
        }
        return done;
    }

    public async Task<IReadOnlyList<KernelRouteSpec>> DumpRoutesAsync(bool ipv6, CancellationToken cancellationToken)
    {
        var list = new List<KernelRouteSpec>();
        await DumpRoutesAsync(ipv6, new ListSink(list), cancellationToken).ConfigureAwait(false);
        return list;
    }

    /// <summary>Routes of a dump as objects of their own.</summary>
    private sealed class ListSink(List<KernelRouteSpec> list) : IRouteDumpSink
    {
        public void OnRoute(in RouteFields route, ReadOnlySpan<KernelNextHop> hops) => list.Add(route.ToSpec(hops));

        public void Restart() => list.Clear();
    }

    /// <summary>
    /// Streams the dump into <paramref name="sink"/>: each route is parsed in place from the receive
    /// buffer, its next hops into a list reused from dump to dump, so nothing is allocated per route.
    /// A route that names a nexthop object of ours is noted (the object is in use) and, when the kernel
    /// gives only the id (nexthop_compat_mode 0), given the next hops the object holds.
    /// </summary>
    public async Task DumpRoutesAsync(bool ipv6, IRouteDumpSink sink, CancellationToken cancellationToken)
    {
        var state = new RouteDumpState(sink, _hops, _nexthops);
        var whole = await DumpAsync(
            (w, seq) => RouteMessage.WriteDumpRequest(w, ipv6, seq),
            static (payload, s) =>
            {
                if (!RouteMessage.TryParse(payload, out var r, out var multipath))
                    return;
                s.Hops.Clear();
                if (!multipath.IsEmpty)
                    RouteMessage.ReadHops(multipath, s.Hops);
                if (r.NexthopId != 0 && s.Nexthops is { } registry)
                {
                    registry.Reference(r.NexthopId);
                    if (r.Gateway is null && multipath.IsEmpty && registry.TryExpand(r.NexthopId, out var single, s.Hops) && single.Id != 0)
                        (r.Gateway, r.OutInterfaceIndex, r.Onlink) = (single.Gateway, single.InterfaceIndex, single.Onlink);
                }
                s.Sink.OnRoute(r, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(s.Hops));
            },
            state,
            static s => s.Sink.Restart(),
            cancellationToken).ConfigureAwait(false);
        // Only a dump read whole lets objects no route named go (one that kept being interrupted may have missed some).
        if (whole)
            _nexthops?.MarkDumped(ipv6);
    }

    private sealed record RouteDumpState(IRouteDumpSink Sink, List<KernelNextHop> Hops, NexthopRegistry? Nexthops);

    public Task<IReadOnlyList<LinkInfo>> DumpLinksAsync(CancellationToken cancellationToken) =>
        DumpAsync<LinkInfo>(
            static (w, seq) => LinkMessage.WriteDumpRequest(w, seq),
            static (payload, list) =>
            {
                if (LinkMessage.TryParse(payload, out var l))
                    list.Add(l);
            },
            cancellationToken);

    public Task<IReadOnlyList<AddressInfo>> DumpAddressesAsync(bool ipv6, CancellationToken cancellationToken) =>
        DumpAsync<AddressInfo>(
            (w, seq) => AddressMessage.WriteDumpRequest(w, ipv6, seq),
            static (payload, list) =>
            {
                if (AddressMessage.TryParse(payload, out var a))
                    list.Add(a);
            },
            cancellationToken);

    public async Task DumpInterfacesAsync(IInterfaceDumpSink sink, CancellationToken cancellationToken)
    {
        // Static lambdas, one per family: nothing but the dumps' own state is allocated per scan.
        await DumpAsync(
            static (w, seq) => LinkMessage.WriteDumpRequest(w, seq),
            static (payload, s) =>
            {
                if (LinkMessage.TryRead(payload, out var l))
                    s.OnLink(l);
            },
            sink, static s => s.Restart(), cancellationToken).ConfigureAwait(false);
        await DumpAsync(static (w, seq) => AddressMessage.WriteDumpRequest(w, false, seq), OnAddress, sink, static s => s.Restart(), cancellationToken).ConfigureAwait(false);
        await DumpAsync(static (w, seq) => AddressMessage.WriteDumpRequest(w, true, seq), OnAddress, sink, static s => s.Restart(), cancellationToken).ConfigureAwait(false);

        static void OnAddress(ReadOnlySpan<byte> payload, IInterfaceDumpSink s)
        {
            if (AddressMessage.TryRead(payload, out var a))
                s.OnAddress(a);
        }
    }

    internal delegate void PayloadHandler<T>(ReadOnlySpan<byte> payload, T state);

    /// <summary>A dump into a new list (one object per entry).</summary>
    private async Task<IReadOnlyList<T>> DumpAsync<T>(Action<NetlinkWriter, uint> request, PayloadHandler<List<T>> parse, CancellationToken cancellationToken)
    {
        var list = new List<T>();
        await DumpAsync(request, parse, list, static l => l.Clear(), cancellationToken).ConfigureAwait(false);
        return list;
    }

    /// <summary>
    /// Sends the dump request and hands every entry's payload to <paramref name="parse"/> with
    /// <paramref name="state"/>; when the kernel flags the dump interrupted, <paramref name="restart"/>
    /// runs and it is asked again (up to <see cref="DumpAttempts"/> times). False when the last attempt
    /// was interrupted too (what was read is then all there is).
    /// </summary>
    private async Task<bool> DumpAsync<TState>(Action<NetlinkWriter, uint> request, PayloadHandler<TState> parse, TState state, Action<TState> restart, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await DumpUngatedAsync(request, parse, state, restart, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary><see cref="DumpAsync{TState}(Action{NetlinkWriter, uint}, PayloadHandler{TState}, TState, Action{TState}, CancellationToken)"/> for a caller that holds the gate.</summary>
    private async Task<bool> DumpUngatedAsync<TState>(Action<NetlinkWriter, uint> request, PayloadHandler<TState> parse, TState state, Action<TState> restart, CancellationToken cancellationToken)
    {
        using var writer = new NetlinkWriter(256);
        var buffer = NetlinkSocket.RentReceiveBuffer();
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                var seq = _socket.ReserveSequence();
                writer.Clear();
                request(writer, seq);
                await _socket.SendAsync(writer.Written, cancellationToken).ConfigureAwait(false);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(ReplyTimeout);
                var done = false;
                var interrupted = false;
                while (!done)
                {
                    var n = await _socket.ReceiveAsync(buffer, timeout.Token).ConfigureAwait(false);
                    done = ParseDump(buffer.AsSpan(0, n), seq, parse, state, ref interrupted);
                }
                // NLM_F_DUMP_INTR: the table changed during the dump, so it may be inconsistent; ask again.
                if (interrupted && attempt < DumpAttempts)
                {
                    restart(state);
                    continue;
                }
                return !interrupted;
            }
        }
        finally
        {
            NetlinkSocket.ReturnReceiveBuffer(buffer);
        }
    }

    /// <summary>Parses one datagram of a dump; true once NLMSG_DONE (or an ACK) ended it.</summary>
    internal static bool ParseDump<TState>(ReadOnlySpan<byte> datagram, uint seq, PayloadHandler<TState> parse, TState state, ref bool interrupted)
    {
        foreach (var m in new NetlinkMessageReader(datagram))
        {
            if (m.Sequence != seq)
                continue;
            if ((m.Flags & Nl.FDumpIntr) != 0)
                interrupted = true;
            switch (m.Type)
            {
                case Nl.Done:
                    // NLMSG_DONE carries the dump's own result (int error): a dump the kernel refused
                    // at its start ends here, not in an NLMSG_ERROR (netlink_dump_done).
                    var p = m.Payload;
                    if (p.Length >= 4 && System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(p) is var error and < 0)
                        throw new NetlinkException(-error, $"netlink dump failed: {new NetlinkResult(-error, null)}");
                    return true;
                case Nl.Error:
                    var r = NetlinkResult.Parse(m);
                    if (r.IsOk)
                        return true;
                    throw new NetlinkException(r.Errno, $"netlink dump failed: {r}");
                case Nl.Noop:
                case Nl.Overrun:
                    break;
                default:
                    parse(m.Payload, state);
                    break;
            }
        }
        return false;
    }

    public void Dispose()
    {
        _socket.Dispose();
        _gate.Dispose();
    }
}
