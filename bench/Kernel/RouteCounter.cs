using System.Diagnostics;
using Calico.Bgp.Fib.Netlink;

namespace Calico.Bgp.KernelBench;

/// <summary>
/// Knows how many complete <c>proto bird</c> IPv4 routes (with all <see cref="Paths"/> next hops) a
/// namespace holds, by counting route notifications (RTNLGRP_IPV4_ROUTE) as they arrive, so the
/// moment the last route lands is seen at once and without loading the kernel with dumps. Each /24
/// has a mark (complete or not), so a route that grows 1 → 2 → 3 → 4 next hops counts once, when it
/// is complete, a complete route replaced by a complete one is not counted twice, and one replaced
/// by an incomplete one (or deleted) is counted out. Should the
/// kernel drop notifications (ENOBUFS), the count falls back to polling dumps. It listens on a
/// thread of its own, so its CPU (the parse of every notification) is read apart from the
/// contender's when the contender is this process (<see cref="Cpu"/>).
/// </summary>
public sealed class RouteCounter : IAsyncDisposable
{
    private readonly NetlinkSocket _socket;
    private readonly RtNetlinkClient _dumper;
    private readonly Thread _thread;
    private volatile bool _stop;
    private int _threadId;
    private long _present;
    private long _firstSeen;
    private volatile bool _lost;
    // Whether the /24 with these upper 24 bits of its address holds a complete route of ours (the listener's thread only).
    private readonly bool[] _complete = new bool[1 << 24];

    public RouteCounter(string netns, int paths)
    {
        Paths = paths;
        // 64 MiB: a notification per route for 100,000 routes must not overflow while this process
        // shares the CPU with the contender (falling back to dumps would cost far more CPU).
        _socket = NetlinkSocket.Open(netns, [Rtnl.GroupIpv4Route], 64 * 1024 * 1024);
        _dumper = RtNetlinkClient.Open(netns);
        _thread = new Thread(Listen) { IsBackground = true, Name = "route-counter" };
        _thread.Start();
        SpinWait.SpinUntil(() => Volatile.Read(ref _threadId) != 0);
    }

    /// <summary>CPU (user + system) of the counter's thread so far.</summary>
    public TimeSpan Cpu => KernelBench.Cpu.OfThread(_threadId);

    /// <summary>Next hops a complete route has.</summary>
    public int Paths { get; }

    /// <summary>
    /// When the first complete route of ours was heard since the last <see cref="ResetFirst"/>
    /// (Stopwatch ticks; 0 = none yet, or notifications were lost).
    /// </summary>
    public long FirstSeen => Interlocked.Read(ref _firstSeen);

    /// <summary>Starts watching for the first route again (before an install).</summary>
    public void ResetFirst() => Interlocked.Exchange(ref _firstSeen, 0);

    /// <summary>Whether notifications were lost and the count came from dumps.</summary>
    public bool FellBackToDumps => _lost;

    public async Task<int> DumpCountAsync() =>
        (await _dumper.DumpRoutesAsync(false, CancellationToken.None)).Count(r => r.Protocol == Rtnl.ProtoBird && r.Table == Rtnl.TableMain && Hops(r) == Paths);

    private static int Hops(KernelRouteSpec r) => r.IsMultipath ? r.NextHops.Length : 1;

    /// <summary>Next hops of a notification, counted in place (the counter shares the CPU with the contender it times).</summary>
    private static int Hops(ReadOnlySpan<byte> multipath)
    {
        if (multipath.IsEmpty)
            return 1;
        var n = 0;
        var attrs = new NetlinkAttributeReader(multipath);
        // struct rtnexthop starts with its length like an rtattr does, so the attribute walk steps from hop to hop.
        while (attrs.MoveNext())
            n++;
        return n;
    }

    /// <summary>Waits until the namespace holds <paramref name="count"/> routes of ours; returns when that was seen.</summary>
    public async Task<long> WaitForAsync(int count, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if (!_lost)
            {
                if (Interlocked.Read(ref _present) == count)
                    return Stopwatch.GetTimestamp();
                await Task.Delay(2);
                continue;
            }
            if (await DumpCountAsync() == count)
                return Stopwatch.GetTimestamp();
            await Task.Delay(50);
        }
        throw new TimeoutException($"the namespace did not reach {count} routes of proto bird (has {await DumpCountAsync()})");
    }

    /// <summary>
    /// How the counter reads: <see cref="CounterMode.Block"/> (the default) sleeps in recv and is woken
    /// per notification; <see cref="CounterMode.Drain"/> wakes every millisecond and drains what came
    /// with recvmmsg, up to 256 notifications per call, so the contender's sendmsg wakes no reader and
    /// the counter makes one call per batch, not per route (<c>--counter drain</c>).
    /// </summary>
    public static CounterMode Mode { get; set; } = CounterMode.Block;

    private void Listen()
    {
        Volatile.Write(ref _threadId, KernelBench.Cpu.CurrentThreadId());
        if (Mode == CounterMode.Drain)
        {
            ListenDraining();
            return;
        }
        var buffer = NetlinkSocket.RentReceiveBuffer();
        try
        {
            while (!_stop)
            {
                int n;
                try
                {
                    // A timeout now and then, so the thread sees the stop.
                    n = _socket.Receive(buffer, 200);
                }
                catch (NetlinkException e) when (e.Errno == Errno.Enobufs)
                {
                    _lost = true;
                    continue;
                }
                Take(buffer.AsSpan(0, n));
            }
        }
        finally
        {
            NetlinkSocket.ReturnReceiveBuffer(buffer);
        }
    }

    private void ListenDraining()
    {
        using var batch = new NotificationBatch(256, 1024);
        var fd = _socket.Handle.DangerousGetHandle().ToInt32();
        while (!_stop)
        {
            var got = batch.Receive(fd, out var errno);
            if (got < 0)
            {
                if (errno == Errno.Enobufs)
                    _lost = true;
                else
                    Thread.Sleep(1);
                continue;
            }
            for (var i = 0; i < got; i++)
                Take(batch.Message(i));
            // Not a full batch: nothing more is queued now; wait for more to gather rather than be woken per route.
            if (got < batch.Capacity)
                Thread.Sleep(1);
        }
    }

    /// <summary>Counts the routes of one datagram of notifications in or out.</summary>
    private void Take(ReadOnlySpan<byte> datagram)
    {
        var delta = 0;
        foreach (var m in new NetlinkMessageReader(datagram))
        {
            // rtm_protocol is byte 5 of struct rtmsg, rtm_table byte 4 (the main table fits in it).
            if (m.Payload.Length < Rtnl.RtMsgLength || m.Payload[5] != Rtnl.ProtoBird || m.Payload[4] != Rtnl.TableMain)
                continue;
            if ((m.Type != Rtnl.DelRoute && m.Type != Rtnl.NewRoute) || !RouteMessage.TryParse(m.Payload, out RouteFields route, out var multipath) || route.Prefix.Length != 24 || route.Prefix.IsV6)
                continue;
            ref var complete = ref _complete[route.Prefix.Address.V4 >> 8];
            var now = m.Type == Rtnl.NewRoute && Hops(multipath) == Paths;
            if (now != complete)
                delta += now ? 1 : -1;
            complete = now;
        }
        if (delta > 0 && Interlocked.Read(ref _firstSeen) == 0)
            Interlocked.CompareExchange(ref _firstSeen, Stopwatch.GetTimestamp(), 0);
        Interlocked.Add(ref _present, delta);
    }

    public async ValueTask DisposeAsync()
    {
        _stop = true;
        await Task.Run(_thread.Join);
        _socket.Dispose();
        _dumper.Dispose();
    }
}

/// <summary>How the route counter reads its notifications.</summary>
public enum CounterMode
{
    Block,
    Drain,
}
