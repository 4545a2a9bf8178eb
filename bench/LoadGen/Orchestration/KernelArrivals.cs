using System.Diagnostics;
using System.Runtime.InteropServices;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Rib;

namespace Calico.Bgp.LoadGen.Orchestration;

/// <summary>
/// Timestamps the arrival of a daemon's IPv4 routes in a namespace's main table as the kernel
/// announces them (RTM_NEWROUTE / RTM_DELROUTE on RTNLGRP_IPV4_ROUTE), instead of polling
/// <c>ip route</c>: the socket joins the group inside the namespace before GO, then one dump adds
/// the routes already there, so every route is counted once whether it came before or after.
/// Routes are counted by prefix (a replace is not a second route) and only with the daemon's
/// <c>rtm_protocol</c>: 12 (bird) for ours and BIRD, 186 (bgp) for FRR's zebra.
/// </summary>
/// <remarks>
/// The kernel sends these notifications from inside the writer's sendmsg, one datagram per route,
/// and netlink has no receive timestamps; so the listener is a thread of its own blocked in recv(2)
/// (pinned to a core the DUT does not use, at real-time priority), timestamping each datagram as it returns. An awaited
/// receive per datagram (epoll, then a pool thread) had lagged by about 10 ms behind 400 routes.
/// </remarks>
public sealed class KernelArrivals : IDisposable
{
    // A notification per route for a few thousand routes; far more than the default so none are lost.
    private const int ReceiveBufferBytes = 16 * 1024 * 1024;

    private readonly byte _protocol;
    private readonly int _expected;
    private readonly HashSet<Prefix> _present = [];
    private readonly List<long> _arrivals = [];
    private readonly Thread _thread;
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _stop;
    private long _completedAt;
    private volatile bool _lost;

    private KernelArrivals(string netns, byte protocol, int expected, int? core)
    {
        _protocol = protocol;
        _expected = expected;
        _thread = new Thread(() => Listen(netns, core)) { IsBackground = true, Name = "kernel-arrivals" };
        _thread.Start();
    }

    /// <summary>
    /// Joins the group in <paramref name="netns"/> on a thread pinned to <paramref name="core"/>,
    /// then dumps the routes already present.
    /// </summary>
    public static async Task<KernelArrivals> StartAsync(string netns, byte protocol, int expected, int? core)
    {
        var watch = new KernelArrivals(netns, protocol, expected, core);
        try
        {
            await watch._listening.Task.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            using var dumper = RtNetlinkClient.Open(netns);
            var routes = await dumper.DumpRoutesAsync(false, CancellationToken.None).ConfigureAwait(false);
            var now = Stopwatch.GetTimestamp();
            lock (watch._present)
            {
                foreach (var r in routes.Where(r => r.Protocol == protocol && r.Table == Rtnl.TableMain))
                    watch.Add(r.Prefix, now);
            }
            return watch;
        }
        catch
        {
            watch.Dispose();
            throw;
        }
    }

    /// <summary>Routes of the protocol the table holds now, as the notifications tell.</summary>
    public int Count
    {
        get
        {
            lock (_present)
                return _present.Count;
        }
    }

    /// <summary>Stopwatch timestamp when the table first held the expected count; 0 until then.</summary>
    public long CompletedAt => Interlocked.Read(ref _completedAt);

    /// <summary>Whether the kernel dropped notifications (ENOBUFS): then the count cannot be trusted.</summary>
    public bool Lost => _lost;

    /// <summary>Stopwatch timestamps of each new prefix's arrival, in order (routes present before the start count at the dump).</summary>
    public long[] Arrivals()
    {
        lock (_present)
            return [.. _arrivals];
    }

    private void Add(Prefix prefix, long at)
    {
        if (!_present.Add(prefix))
            return;
        _arrivals.Add(at);
        if (_present.Count >= _expected && _completedAt == 0)
            Interlocked.Exchange(ref _completedAt, at);
    }

    private void Listen(string netns, int? core)
    {
        NetlinkSocket? socket = null;
        try
        {
            if (core is { } c)
            {
                var mask = 1UL << c;
                ArrivalNative.SchedSetAffinity(0, sizeof(ulong), ref mask);
            }
            // Real-time priority, so a busy core (the shared machine's other jobs) does not delay the
            // reads: the thread sleeps in recv(2) and only ever wakes for a notification or its timeout.
            var priority = 1;
            ArrivalNative.SchedSetScheduler(0, ArrivalNative.SchedFifo, ref priority);
            // The daemon's own netlink socket, opened in the DUT's namespace, read with blocking receives
            // on this thread (as bench/Kernel's route counter does).
            socket = NetlinkSocket.Open(netns, [Rtnl.GroupIpv4Route], ReceiveBufferBytes);
            _listening.TrySetResult();
            var buffer = new byte[256 * 1024];
            while (!_stop)
            {
                int n;
                try
                {
                    // 20 ms at most, so the thread sees now and then that it is to stop.
                    n = socket.Receive(buffer, 20);
                }
                catch (NetlinkException e) when (e.Errno == Errno.Enobufs)
                {
                    _lost = true;
                    continue;
                }
                // One timestamp per datagram: the moment this thread heard of the routes in it.
                var at = Stopwatch.GetTimestamp();
                if (n > 0)
                    Take(buffer.AsSpan(0, n), at);
            }
        }
        catch (Exception e) when (e is NetlinkException or IOException)
        {
            _listening.TrySetException(e);
        }
        finally
        {
            socket?.Dispose();
        }
    }

    private void Take(ReadOnlySpan<byte> datagram, long at)
    {
        lock (_present)
        {
            foreach (var m in new NetlinkMessageReader(datagram))
            {
                // rtm_protocol is byte 5 of struct rtmsg; the full parse gives the table past 255 too.
                if (m.Payload.Length < Rtnl.RtMsgLength || m.Payload[5] != _protocol || !RouteMessage.TryParse(m.Payload, out RouteFields r, out _))
                    continue;
                if (r.Table != Rtnl.TableMain)
                    continue;
                if (m.Type == Rtnl.NewRoute)
                    Add(r.Prefix, at);
                else if (m.Type == Rtnl.DelRoute)
                    _present.Remove(r.Prefix);
            }
        }
    }

    public void Dispose()
    {
        _stop = true;
        _thread.Join();
    }
}
