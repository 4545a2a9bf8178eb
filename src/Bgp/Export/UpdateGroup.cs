using System.Buffers;
using System.Runtime.InteropServices;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Speaker.Export;

/// <summary>
/// Peers that share an export policy (<see cref="UpdateGroupKey"/>): one cursor in the table's change
/// journal, one
/// Adj-RIB-Out, and each UPDATE encoded once and queued to every member. Split horizon (a route is
/// not sent back to the peer it came from, BIRD's <c>bgp_import_control</c>) is kept by sending such
/// paths to "every member but its source"; their source gets a withdrawal alone when it had them.
/// With ADD-PATH (RFC 7911) every exported route of a prefix is a path of its own, with a path
/// identifier that stays the same while the route exists.
/// </summary>
public sealed partial class UpdateGroup
{
    private readonly UpdateGroupRegistry _registry;
    private readonly List<UpdateGroupMember> _members = [];
    // Adj-RIB-Out: what the members have from the group, per prefix.
    private readonly AdjRibOut _out = new();
    // Paths per source protocol: a member is not sent its own routes, so it holds that many fewer.
    private readonly Dictionary<Protocol, int> _excluded = new(ReferenceEqualityComparer.Instance);
    // Changes to _excluded gathered while the source stays the same (a burst is mostly one peer's).
    private Protocol? _excludedSource;
    private int _excludedDelta;
    private readonly CancellationTokenSource _cts = new();
    private JournalReader? _reader;
    private Task? _loop;
    private bool _initialDone;
    private int _pathCount;
    // Export outcomes of the pass that are the same for every member, counted once per route and added
    // to each member's stats when the pass finishes (a full mesh has routes × members of them).
    private long _passRejected;
    private long _passFiltered;
    private long _passWithdrawsReceived;
    // Whether a member traces its export refusals (`debug { filters }`), looked up once per pass when needed.
    private bool? _passTraces;

    internal UpdateGroup(UpdateGroupRegistry registry, UpdateGroupKey key)
    {
        _registry = registry;
        Key = key;
    }

    internal Lock Sync { get; } = new();
    public UpdateGroupKey Key { get; }
    private BgpCodec Codec => Key.Codec;

    internal IReadOnlyList<string> MemberNames()
    {
        lock (Sync)
            return [.. _members.Select(m => m.Protocol.Name)];
    }

    internal void Start()
    {
        _reader = Key.Table.SubscribeJournal("bgp-group", _registry.JournalCapacity);
        _loop = Task.Run(() => RunAsync(_cts.Token));
    }

    internal void Stop()
    {
        _cts.Cancel();
        _reader?.Dispose();
    }

    internal UpdateGroupMember Add(BgpProtocol protocol)
    {
        var m = new UpdateGroupMember(this, protocol);
        lock (Sync)
            _members.Add(m);
        m.Signal();
        return m;
    }

    internal int Remove(UpdateGroupMember member)
    {
        lock (Sync)
        {
            _members.Remove(member);
            return _members.Count;
        }
    }

    /// <summary>Changes read and processed under one hold of <see cref="Sync"/>: members' writers get the lock between chunks.</summary>
    private const int ChunkSize = 4096;

    private async Task RunAsync(CancellationToken ct)
    {
        var reader = _reader!;
        var changes = new TableChange[ChunkSize];
        var resync = new List<RouteEntry>();
        var resyncNumbers = new List<int>();
        try
        {
            while (!ct.IsCancellationRequested)
            {
                // A resync waits for a bulk change of the table to end (see WaitAsync).
                if (reader.NeedsResync)
                    await reader.WaitAsync(ct).ConfigureAwait(false);
                lock (Sync)
                {
                    if (reader.NeedsResync)
                    {
                        // The initial feed, or the group fell a journal's length behind (BIRD 3's
                        // export resync): compare the whole table with the Adj-RIB-Out.
                        reader.Resync(resync, resyncNumbers);
                        ProcessResync(resync, resyncNumbers);
                        resync.Clear();
                        resyncNumbers.Clear();
                        // A whole table's lists are not kept for the next resync, which may never come.
                        if (resync.Capacity > ChunkSize)
                            (resync, resyncNumbers) = ([], []);
                    }
                    if (!_initialDone)
                    {
                        // RFC 4724 §2: End-of-RIB after the initial feed.
                        _initialDone = true;
                        foreach (var m in _members)
                        {
                            if (m.PendingEndOfRib)
                            {
                                m.PendingEndOfRib = false;
                                m.EndOfRibQueued = true;
                                m.EnqueueAlways(EndOfRib());
                                m.Protocol.TraceEndOfRibSent();
                            }
                        }
                    }
                }
                while (!ct.IsCancellationRequested)
                {
                    var n = reader.TryRead(changes);
                    if (n == 0)
                        break;
                    lock (Sync)
                        Process(changes.AsSpan(0, n));
                    // The entries are the table's; do not keep them alive until the slots are reused.
                    Array.Clear(changes, 0, n);
                }
                await reader.WaitAsync(ct).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (ct.IsCancellationRequested && e is OperationCanceledException or ObjectDisposedException)
        {
            // The last member left.
        }
    }

    private byte[] EndOfRib()
    {
        var w = new ArrayBufferWriter<byte>(64);
        if (Key.Options.Ipv4)
            UpdateWriter.WriteEndOfRib(w, false);
        if (Key.Options.Ipv6)
            UpdateWriter.WriteEndOfRib(w, true);
        return w.WrittenSpan.ToArray();
    }

    /// <summary>
    /// The paths the members should have for a prefix (of the family <paramref name="v6"/> says) whose
    /// routes are <paramref name="entry"/>: the best route, or every route with ADD-PATH. The family comes
    /// from the caller, which has the prefix: a route's prefix is built from its fields at each ask.
    /// </summary>
    private void Desired(RouteEntry? entry, bool v6, List<PathOut> into)
    {
        if (entry is null || entry.IsEmpty)
        {
            // The prefix is gone: a withdrawal offered to every member (BIRD's export withdraws "received").
            _passWithdrawsReceived++;
            return;
        }
        if (Codec.SendsPathId(v6))
        {
            for (var i = 0; i < entry.Count; i++)
                Want(entry[i], v6, into);
        }
        else
            Want(entry.Best!, v6, into);
    }

    private void Want(Route route, bool v6, List<PathOut> into)
    {
        var attrs = Key.Table.Attributes;
        var prepared = PrepareOnce(route, v6);
        if (prepared is null)
        {
            // Refused by the session rules before the filter: BIRD's export "rejected", for every member.
            _passRejected++;
            if (PassTraces())
            {
                foreach (var m in _members)
                    m.Protocol.TraceExportRefused(route.Prefix, byFilter: false);
            }
            return;
        }
        // Never back to the member it came from (BIRD's bgp_import_control): rejected for that one,
        // counted for the pass (added once in Finish: an interlocked add per route was 5 % of P1's
        // export, where the feeding peer shares the monitor's group).
        foreach (var m in CollectionsMarshal.AsSpan(_members))
        {
            if (ReferenceEquals(m.Protocol, route.Protocol))
            {
                m.PassSelfRejected++;
                if (PassTraces())
                    m.Protocol.TraceExportRefused(route.Prefix, byFilter: false);
            }
        }
        // `export all` accepts as it is: no route copy to run it on.
        var accepted = ReferenceEquals(Key.Filter, RouteFilter.AcceptAll)
            ? prepared
            : Key.Filter.Apply(route.WithAttributes(prepared), attrs)?.Attributes;
        if (accepted is null)
        {
            _passFiltered++;
            if (PassTraces())
            {
                foreach (var m in _members)
                    m.Protocol.TraceExportRefused(route.Prefix, byFilter: true);
            }
            return;
        }
        var wire = WireOnce(accepted);
        if (LacksV6NextHop(v6, wire))
            return;
        into.Add(new PathOut(route, 0, wire));
    }

    private void Exclude(Protocol source, int delta)
    {
        if (!ReferenceEquals(source, _excludedSource))
        {
            FlushExcluded();
            _excludedSource = source;
        }
        _excludedDelta += delta;
    }

    private void FlushExcluded()
    {
        if (_excludedSource is { } source && _excludedDelta != 0)
            _excluded[source] = _excluded.GetValueOrDefault(source) + _excludedDelta;
        _excludedSource = null;
        _excludedDelta = 0;
    }

    /// <summary>An IPv6 route needs an IPv6 next hop for MP_REACH_NLRI (RFC 2545 §3).</summary>
    private static bool LacksV6NextHop(bool v6, PathAttributes a) => v6 && a.NextHop is not { IsV6: true };
}
