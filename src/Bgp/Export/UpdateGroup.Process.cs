using System.Buffers;
using System.Runtime.InteropServices;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Speaker.Export;

public sealed partial class UpdateGroup
{
    // Reused from pass to pass: nothing here is allocated per prefix.
    private readonly ChunkSeen _seen = new(ChunkSize);
    private readonly UpdateBatches _batches = new();
    private readonly List<PathOut> _desired = [];
    // UPDATEs are written here and copied out at their size; a whole-table resync's buffer is not kept.
    private const int ScratchInitial = 64 * 1024;
    private const int ScratchKeep = 1 << 20;
    private ArrayBufferWriter<byte> _scratch = new(ScratchInitial);
    // Encoded attribute blocks per family (interned sets: by reference). Kept from pass to pass like
    // the export rules' answers (UpdateGroup.Memo): the encoding depends only on the set and the
    // group's codec, and a reflector under churn encoded the same set again for every change. Emptied
    // when one holds MemoLimit blocks.
    private readonly Dictionary<PathAttributes, byte[]> _encodedV4 = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<PathAttributes, byte[]> _encodedV6 = new(ReferenceEqualityComparer.Instance);

    /// <summary>Encoded blocks held now (tests).</summary>
    internal int EncodedCount => _encodedV4.Count + _encodedV6.Count;

    /// <summary>
    /// Brings the Adj-RIB-Out up to date for a chunk of journal changes and queues the UPDATEs. Each
    /// change carries the prefix's whole entry, so only the newest change of a prefix number in the
    /// chunk counts (read newest first; older ones are skipped): churn within a chunk coalesces. A
    /// prefix that left and came back under another number within the chunk is withdrawn and announced
    /// in one pass, whose withdrawals go out first. Under <see cref="Sync"/>.
    /// </summary>
    internal void Process(ReadOnlySpan<TableChange> changes)
    {
        if (changes.Length > ChunkSize)
            throw new ArgumentOutOfRangeException(nameof(changes), $"at most {ChunkSize} changes per pass");
        _seen.Clear();
        BeginPass();
        for (var i = changes.Length - 1; i >= 0; i--)
        {
            ref readonly var change = ref changes[i];
            // A removal of a prefix the table did not have: nothing was sent for it.
            if (change.Number >= 0 && _seen.Add(change.Number))
                Bring(change.Prefix, change.Number, change.NewEntry);
        }
        Finish();
    }

    /// <summary>
    /// Compares the whole table (<paramref name="entries"/> and their prefix <paramref name="numbers"/>,
    /// from a journal resync) with the Adj-RIB-Out: every prefix in the table, and withdrawals for
    /// those the group sent that are gone. Under <see cref="Sync"/>.
    /// </summary>
    /// <remarks>
    /// In passes of at most <see cref="ChunkSize"/> prefixes, as the journal's changes are: one pass
    /// over a whole table held every prefix's NLRI in its batches and every UPDATE in one buffer (a
    /// withdrawn million-route table: 45 MiB of the daemon's peak; bench/RESULTS-perf.md, fourteenth round). Every withdrawal goes before every
    /// announcement, as within one pass: a prefix the table numbers anew since the group last saw it
    /// leaves its old slot before a later pass announces it in its new one.
    /// </remarks>
    private void ProcessResync(List<RouteEntry> entries, List<int> numbers)
    {
        var limit = 0;
        foreach (var n in numbers)
            limit = Math.Max(limit, n + 1);
        var inTable = new System.Collections.BitArray(limit);
        foreach (var n in numbers)
            inTable[n] = true;
        BeginPass();
        var inPass = 0;
        void Count()
        {
            if (++inPass < ChunkSize)
                return;
            Finish();
            BeginPass();
            inPass = 0;
        }

        // Slots of the table's numbers that hold another prefix (one the table has forgotten since).
        var held = 0;
        for (var i = 0; i < entries.Count; i++)
        {
            var prefix = entries[i].Prefix;
            var index = AdjRibOut.IndexOf(prefix, numbers[i]);
            for (var stale = _out.StaleSlot(index, prefix); stale >= 0; stale = _out.StaleSlot(index, prefix))
            {
                Withdraw(stale);
                Count();
            }
            if (_out.IsUsed(index))
                held++;
        }
        // Every other slot still used is a prefix gone from the table.
        if (_out.Count > held)
        {
            for (var i = 0; i < _out.Capacity; i++)
            {
                var number = i >> 1;
                if (_out.IsUsed(i) && (number >= limit || !inTable[number]))
                {
                    Withdraw(i);
                    Count();
                }
            }
        }
        for (var i = 0; i < entries.Count; i++)
        {
            Bring(entries[i].Prefix, numbers[i], entries[i]);
            Count();
        }
        Finish();
    }

    /// <summary>
    /// Diffs one prefix's desired paths against what the members have, adding the UPDATEs to the
    /// pass's batches. True when the Adj-RIB-Out has paths for the prefix afterwards.
    /// </summary>
    private bool Bring(in Prefix prefix, int number, RouteEntry? entry)
    {
        var index = AdjRibOut.IndexOf(prefix, number);
        // The number was another prefix's, which the table has forgotten since: the members still
        // have it from us, so it goes first (in either family's slot; the pass sends withdrawals first).
        for (var stale = _out.StaleSlot(index, prefix); stale >= 0; stale = _out.StaleSlot(index, prefix))
            Withdraw(stale);
        if (prefix.IsV6 ? !Key.Options.Ipv6 : !Key.Options.Ipv4)
            return false;
        _desired.Clear();
        Desired(entry, prefix.IsV6, _desired);
        return Store(index, prefix, CollectionsMarshal.AsSpan(_desired));
    }

    /// <summary>Withdraws whatever slot <paramref name="index"/> holds: its prefix is gone from the table.</summary>
    private void Withdraw(int index)
    {
        _passWithdrawsReceived++;
        Store(index, _out.PrefixAt(index), []);
    }

    /// <summary>Diffs slot <paramref name="index"/> (empty or holding <paramref name="prefix"/>) against <paramref name="desired"/> and keeps the result.</summary>
    private bool Store(int index, in Prefix prefix, Span<PathOut> desired)
    {
        var one = default(PathOut);
        var old = _out.PathsAt(index, ref one);
        var store = Codec.SendsPathId(prefix.IsV6) ? DiffAddPath(prefix, old, desired) : DiffBest(prefix, old, desired);
        if (!store)
            return old.Length > 0;
        foreach (var p in old)
            Exclude(p.Source, -1);
        foreach (var p in desired)
            Exclude(p.Source, 1);
        _pathCount += desired.Length - old.Length;
        _out.Set(index, prefix, desired);
        return desired.Length > 0;
    }

    /// <summary>
    /// The slot of <paramref name="prefix"/> if the Adj-RIB-Out holds it under its number in the table
    /// now, else -1. A prefix the table has forgotten while the group still holds it (the group is
    /// behind) is not found: the group's next pass withdraws it anyway.
    /// </summary>
    private int Find(in Prefix prefix)
    {
        var number = Key.Table.NumberOf(prefix);
        if (number < 0)
            return -1;
        var index = AdjRibOut.IndexOf(prefix, number);
        return _out.Holds(index, prefix) ? index : -1;
    }

    private void BeginPass()
    {
        _passRejected = _passFiltered = _passWithdrawsReceived = 0;
        _passTraces = null;
    }

    /// <summary>Whether a member traces export refusals; asked at the pass's first refusal (a pass may be one route).</summary>
    private bool PassTraces()
    {
        if (_passTraces is { } known)
            return known;
        var any = false;
        foreach (var m in _members)
            any |= m.Protocol.TracesExportRefusals;
        _passTraces = any;
        return any;
    }

    /// <summary>Encodes and queues a pass's batches and brings the members' exported counts up to date.</summary>
    private void Finish()
    {
        FlushExcluded();
        TrimMemo();
        // Counted before the bytes are queued: a peer that has read the UPDATEs sees the count too.
        var outcomes = (_passRejected | _passFiltered | _passWithdrawsReceived) != 0;
        foreach (var m in _members)
        {
            var exported = _pathCount - _excluded.GetValueOrDefault(m.Protocol);
            if (exported != m.ReportedExported)
            {
                m.Protocol.Stats.AddExported(exported - m.ReportedExported);
                m.ReportedExported = exported;
            }
            if (outcomes || m.PassSelfRejected != 0)
                m.Protocol.Stats.AddExportOutcomes(_passRejected + m.PassSelfRejected, _passFiltered, _passWithdrawsReceived);
            m.PassSelfRejected = 0;
        }
        _passRejected = _passFiltered = _passWithdrawsReceived = 0;
        Emit();
        _batches.Clear();
    }

    /// <summary>
    /// Without ADD-PATH: one path per prefix, the best; a new one implicitly replaces the old (RFC 4271 §3.1).
    /// True when the Adj-RIB-Out should take <paramref name="desired"/> (it may differ only in the table's route object).
    /// </summary>
    private bool DiffBest(in Prefix prefix, ReadOnlySpan<PathOut> old, ReadOnlySpan<PathOut> desired)
    {
        var nlri = new Nlri(prefix);
        if (desired.Length == 0)
        {
            if (old.Length == 0)
                return false;
            _batches.Add(new BatchKey(true, prefix.IsV6, null, old[0].Source, null), nlri);
            return true;
        }
        var n = desired[0];
        if (old.Length > 0 && ReferenceEquals(old[0].Attributes, n.Attributes) && ReferenceEquals(old[0].Source, n.Source))
            return old[0].SourcePathId != n.SourcePathId;
        _batches.Add(new BatchKey(false, prefix.IsV6, n.Attributes, n.Source, null), nlri);
        // The new best came from a member that had the old one from us: it loses it (split horizon).
        if (old.Length > 0 && !ReferenceEquals(old[0].Source, n.Source))
            _batches.Add(new BatchKey(true, prefix.IsV6, null, null, n.Source), nlri);
        return true;
    }

    /// <summary>
    /// With ADD-PATH (RFC 7911 §3): each source route keeps its path identifier while it exists; a
    /// new route takes the lowest identifier not in use (nor freed in this pass, so a withdrawal and
    /// an announcement never name the same path in one batch). Sets the ids in <paramref name="desired"/>.
    /// </summary>
    private bool DiffAddPath(in Prefix prefix, ReadOnlySpan<PathOut> old, Span<PathOut> desired)
    {
        if (old.Length == 0 && desired.Length == 0)
            return false;
        Span<bool> matched = old.Length <= 32 ? stackalloc bool[32] : new bool[old.Length];
        matched[..old.Length].Clear();
        var changed = old.Length != desired.Length;
        uint candidate = 1;
        for (var i = 0; i < desired.Length; i++)
        {
            var d = desired[i];
            var j = IndexOfSource(old, d);
            if (j >= 0)
            {
                matched[j] = true;
                desired[i] = d with { Id = old[j].Id };
                // Same source path, same attributes: nothing to send, nothing new to keep.
                if (ReferenceEquals(old[j].Attributes, d.Attributes))
                    continue;
            }
            else
            {
                // In use: the old ids (kept or freed in this pass) and those given out above.
                while (IdInUse(candidate, old, desired[..i]))
                    candidate++;
                desired[i] = d with { Id = candidate };
            }
            changed = true;
            _batches.Add(new BatchKey(false, prefix.IsV6, d.Attributes, d.Source, null), new Nlri(prefix, desired[i].Id));
        }
        for (var j = 0; j < old.Length; j++)
        {
            if (!matched[j])
                _batches.Add(new BatchKey(true, prefix.IsV6, null, old[j].Source, null), new Nlri(prefix, old[j].Id));
        }
        return changed;
    }

    private static int IndexOfSource(ReadOnlySpan<PathOut> old, in PathOut d)
    {
        for (var j = 0; j < old.Length; j++)
        {
            if (ReferenceEquals(old[j].Source, d.Source) && old[j].SourcePathId == d.SourcePathId)
                return j;
        }
        return -1;
    }

    private static bool IdInUse(uint id, ReadOnlySpan<PathOut> old, ReadOnlySpan<PathOut> given)
    {
        foreach (var p in old)
        {
            if (p.Id == id)
                return true;
        }
        foreach (var p in given)
        {
            if (p.Id == id)
                return true;
        }
        return false;
    }

    /// <summary>
    /// Encodes each batch once, the whole pass into one buffer (withdrawals first), and queues each
    /// member the runs of it that target it: one slice of shared bytes per run, not one per batch.
    /// </summary>
    /// <remarks>
    /// A reflector's clients each send their own attribute set, so a pass holds a batch per client,
    /// and each client is left out of its own: queued per batch, a thousand clients each held a
    /// thousand-entry queue (33 MB of P2's heap at K=1000, and the queues never shrink). Left out of one
    /// batch, a member now gets two slices.
    /// </remarks>
    private void Emit()
    {
        if (_batches.Count == 0 || _members.Count == 0)
            return;
        EmittedPasses++;
        var w = _scratch;
        w.ResetWrittenCount();
        var spans = _spans;
        spans.Clear();
        foreach (var withdraw in (ReadOnlySpan<bool>)[true, false])
        {
            for (var b = 0; b < _batches.Count; b++)
            {
                if (_batches.KeyAt(b).Withdraw != withdraw)
                    continue;
                var start = w.WrittenCount;
                _registry.CountEncoded(EncodeInto(w, _batches.KeyAt(b), _batches.NlriAt(b)));
                spans.Add(new BatchSpan(b, start, w.WrittenCount));
            }
        }
        // Held by this pass until its slices are queued; each queued slice holds it too (PassBuffer).
        var bytes = PassBuffer.Share(w.WrittenSpan, out var held);
        if (w.Capacity > ScratchKeep)
            _scratch = new ArrayBufferWriter<byte>(ScratchInitial);
        foreach (var m in _members)
        {
            // Counted per pass and before any byte is queued, not per path: an interlocked add per
            // route and member was a full mesh's cost.
            long updates = 0, withdraws = 0;
            for (var i = 0; i < spans.Count; i++)
            {
                var key = _batches.KeyAt(spans[i].Batch);
                if (!key.Targets(m))
                    continue;
                var nlri = _batches.NlriAt(spans[i].Batch);
                m.Protocol.TraceExport(key.Withdraw, nlri, key.Attributes);
                if (key.Withdraw)
                    withdraws += nlri.Count;
                else
                    updates += nlri.Count;
            }
            m.Protocol.Stats.AddExportChanges(updates, 0, withdraws);
            var from = -1;
            for (var i = 0; i < spans.Count; i++)
            {
                if (!_batches.KeyAt(spans[i].Batch).Targets(m))
                {
                    if (from >= 0)
                        QueueRun(m, bytes, from, i);
                    from = -1;
                }
                else if (from < 0)
                    from = i;
            }
            if (from >= 0)
                QueueRun(m, bytes, from, spans.Count);
        }
        held?.Release();
    }

    /// <summary>Passes that queued UPDATEs to the members (the tests compare it with the slices queued).</summary>
    internal long EmittedPasses { get; private set; }

    /// <summary>One encoded batch's place in a pass's buffer.</summary>
    private readonly record struct BatchSpan(int Batch, int Start, int End);

    private readonly List<BatchSpan> _spans = [];

    /// <summary>Queues batches <paramref name="from"/> up to <paramref name="to"/> of the pass as one slice; their paths are read only if the member is over its limit.</summary>
    private void QueueRun(UpdateGroupMember m, ReadOnlyMemory<byte> bytes, int from, int to)
    {
        if (m.TryEnqueue(bytes[_spans[from].Start.._spans[to - 1].End], _registry.MaxPendingBytes))
            return;
        for (var i = from; i < to; i++)
            m.AddDirty(_batches.NlriAt(_spans[i].Batch));
        m.Signal();
    }

    /// <summary>Writes one batch's UPDATEs to <paramref name="w"/>; returns how many messages.</summary>
    private int EncodeInto(ArrayBufferWriter<byte> w, in BatchKey key, List<Nlri> nlri)
    {
        var span = CollectionsMarshal.AsSpan(nlri);
        if (key.Withdraw)
            return UpdateWriter.WriteWithdrawals(w, Codec, span, key.V6);
        // Encoded once per attribute set and family, whatever the batches' members, and kept (see _encodedV4).
        var attrs = key.Attributes!;
        var encodedAttributes = key.V6 ? _encodedV6 : _encodedV4;
        if (!encodedAttributes.TryGetValue(attrs, out var encoded))
        {
            if (encodedAttributes.Count >= MemoLimit)
                encodedAttributes.Clear();
            encodedAttributes[attrs] = encoded = AttributeEncoder.Encode(attrs, Codec, ipv4NextHop: !key.V6);
        }
        return key.V6
            ? UpdateWriter.WriteAnnouncements(w, Codec, encoded, span, true, attrs.NextHop!.Value, attrs.NextHopLinkLocal)
            : UpdateWriter.WriteAnnouncements(w, Codec, encoded, span, false);
    }

    /// <summary>
    /// Encodes for <paramref name="member"/> alone what it is missing: every path (joined, route
    /// refresh) or the paths that changed while it was behind. Under <see cref="Sync"/>.
    /// </summary>
    internal void Resync(UpdateGroupMember member)
    {
        var me = member.Protocol;
        var one = default(PathOut);
        if (member.NeedsFull)
        {
            member.NeedsFull = false;
            member.Dirty = null;
            if (member.Inherited is { } inherited)
            {
                // Moved here from another group: withdraw what the old group sent and this one does not.
                member.Inherited = null;
                foreach (var n in inherited)
                {
                    if (!Holds(me, n))
                        _batches.Add(new BatchKey(true, n.Prefix.IsV6, null, null, null), n);
                }
            }
            for (var i = 0; i < _out.Capacity; i++)
            {
                if (!_out.IsUsed(i))
                    continue;
                var prefix = _out.PrefixAt(i);
                foreach (var p in _out.PathsAt(i, ref one))
                {
                    if (!ReferenceEquals(p.Source, me))
                        _batches.Add(new BatchKey(false, prefix.IsV6, p.Attributes, null, null), new Nlri(prefix, p.Id));
                }
            }
            // A member joining a group that already has paths counts them now, not at the next change.
            var exported = _pathCount - _excluded.GetValueOrDefault(me);
            me.Stats.AddExported(exported - member.ReportedExported);
            member.ReportedExported = exported;
            if (!member.SentEndOfRib)
            {
                member.SentEndOfRib = true;
                member.PendingEndOfRib = !_initialDone;
            }
        }
        else if (member.Dirty is { } dirty)
        {
            member.Dirty = null;
            foreach (var n in dirty)
            {
                var found = false;
                foreach (var p in _out.PathsAt(Find(n.Prefix), ref one))
                {
                    if (p.Id == n.PathId && !ReferenceEquals(p.Source, me))
                    {
                        _batches.Add(new BatchKey(false, n.Prefix.IsV6, p.Attributes, null, null), n);
                        found = true;
                    }
                }
                if (!found)
                    _batches.Add(new BatchKey(true, n.Prefix.IsV6, null, null, null), n);
            }
        }
        // The member's whole resync in one buffer and one queue entry (see Emit).
        var w = _scratch;
        w.ResetWrittenCount();
        foreach (var withdraw in (ReadOnlySpan<bool>)[true, false])
        {
            for (var b = 0; b < _batches.Count; b++)
            {
                var key = _batches.KeyAt(b);
                if (key.Withdraw != withdraw)
                    continue;
                var nlri = _batches.NlriAt(b);
                _registry.CountResync(EncodeInto(w, key, nlri));
                me.TraceExport(key.Withdraw, nlri, key.Attributes);
            }
        }
        if (w.WrittenCount > 0)
            member.EnqueueAlways(w.WrittenSpan.ToArray());
        if (w.Capacity > ScratchKeep)
            _scratch = new ArrayBufferWriter<byte>(ScratchInitial);
        _batches.Clear();
        if (member.SentEndOfRib && !member.PendingEndOfRib && !member.EndOfRibQueued)
        {
            member.EndOfRibQueued = true;
            member.EnqueueAlways(EndOfRib());
            me.TraceEndOfRibSent();
        }
    }
}
