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
    // Encoded attribute blocks of one pass, per family (interned sets: by reference).
    private readonly Dictionary<PathAttributes, byte[]> _encodedV4 = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<PathAttributes, byte[]> _encodedV6 = new(ReferenceEqualityComparer.Instance);

    /// <summary>
    /// Brings the Adj-RIB-Out up to date for a chunk of journal changes and queues the UPDATEs. Each
    /// change carries the prefix's whole entry, so only the newest change of a prefix in the chunk
    /// counts (read newest first; older ones are skipped): churn within a chunk coalesces, and no
    /// prefix is announced and withdrawn in the same batch. Under <see cref="Sync"/>.
    /// </summary>
    internal void Process(ReadOnlySpan<TableChange> changes)
    {
        if (changes.Length > ChunkSize)
            throw new ArgumentOutOfRangeException(nameof(changes), $"at most {ChunkSize} changes per pass");
        _seen.Clear();
        for (var i = changes.Length - 1; i >= 0; i--)
        {
            var entry = changes[i].Entry;
            var prefix = entry.Prefix;
            var hash = AdjRibOut.Hash(prefix);
            if (_seen.Add(changes, i, prefix, hash))
                Bring(prefix, hash, entry);
        }
        Finish();
    }

    /// <summary>
    /// Compares the whole table (<paramref name="entries"/>, from a journal resync) with the
    /// Adj-RIB-Out: every prefix in the table, and withdrawals for those the group sent that are
    /// gone. Under <see cref="Sync"/>.
    /// </summary>
    private void ProcessResync(List<RouteEntry> entries)
    {
        var kept = 0;
        foreach (var entry in entries)
        {
            var prefix = entry.Prefix;
            if (Bring(prefix, AdjRibOut.Hash(prefix), entry))
                kept++;
        }
        // Every prefix left in the Adj-RIB-Out that the table still has was counted: any more are gone.
        if (_out.Count > kept)
        {
            var inTable = new HashSet<Prefix>(entries.Count);
            foreach (var entry in entries)
                inTable.Add(entry.Prefix);
            var gone = new List<Prefix>();
            for (var i = 0; i < _out.Capacity; i++)
            {
                if (_out.IsUsed(i) && !inTable.Contains(_out.PrefixAt(i)))
                    gone.Add(_out.PrefixAt(i));
            }
            foreach (var prefix in gone)
                Bring(prefix, AdjRibOut.Hash(prefix), null);
        }
        Finish();
    }

    /// <summary>
    /// Diffs one prefix's desired paths against what the members have, adding the UPDATEs to the
    /// pass's batches. True when the Adj-RIB-Out has paths for the prefix afterwards.
    /// </summary>
    private bool Bring(in Prefix prefix, int hash, RouteEntry? entry)
    {
        if (prefix.IsV6 ? !Key.Options.Ipv6 : !Key.Options.Ipv4)
            return false;
        _desired.Clear();
        Desired(entry, _desired);
        var index = _out.Find(prefix, hash);
        var one = default(PathOut);
        var old = _out.PathsAt(index, ref one);
        var desired = CollectionsMarshal.AsSpan(_desired);
        var store = Codec.SendsPathId(prefix.IsV6) ? DiffAddPath(prefix, old, desired) : DiffBest(prefix, old, desired);
        if (!store)
            return old.Length > 0;
        foreach (var p in old)
            Exclude(p.Source, -1);
        foreach (var p in desired)
            Exclude(p.Source, 1);
        _pathCount += desired.Length - old.Length;
        _out.Set(index, prefix, hash, desired);
        return desired.Length > 0;
    }

    /// <summary>Encodes and queues a pass's batches and brings the members' exported counts up to date.</summary>
    private void Finish()
    {
        FlushExcluded();
        ClearMemo();
        // Counted before the bytes are queued: a peer that has read the UPDATEs sees the count too.
        foreach (var m in _members)
        {
            var exported = _pathCount - _excluded.GetValueOrDefault(m.Protocol);
            m.Protocol.Stats.AddExported(exported - m.ReportedExported);
            m.ReportedExported = exported;
        }
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
            return !ReferenceEquals(old[0].Route, n.Route);
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
                if (ReferenceEquals(old[j].Attributes, d.Attributes))
                {
                    changed |= !ReferenceEquals(old[j].Route, d.Route);
                    continue;
                }
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

    /// <summary>Encodes each batch once and queues the same bytes to every member it targets; withdrawals first.</summary>
    private void Emit()
    {
        if (_batches.Count == 0 || _members.Count == 0)
            return;
        foreach (var withdraw in (ReadOnlySpan<bool>)[true, false])
        {
            for (var b = 0; b < _batches.Count; b++)
            {
                var key = _batches.KeyAt(b);
                if (key.Withdraw != withdraw)
                    continue;
                var nlri = _batches.NlriAt(b);
                var (bytes, messages) = Encode(key, nlri);
                _registry.CountEncoded(messages);
                foreach (var m in _members)
                {
                    if (!key.Targets(m))
                        continue;
                    m.Enqueue(bytes, nlri, _registry.MaxPendingBytes);
                    m.Protocol.TraceExport(key.Withdraw, nlri, key.Attributes);
                    if (key.Withdraw)
                    {
                        for (var i = 0; i < nlri.Count; i++)
                            m.Protocol.Stats.CountExportWithdraw();
                    }
                    else
                    {
                        for (var i = 0; i < nlri.Count; i++)
                            m.Protocol.Stats.CountExportUpdate(true);
                    }
                }
            }
        }
        _encodedV4.Clear();
        _encodedV6.Clear();
    }

    private (ReadOnlyMemory<byte> Bytes, int Messages) Encode(in BatchKey key, List<Nlri> nlri)
    {
        var w = _scratch;
        w.ResetWrittenCount();
        var span = CollectionsMarshal.AsSpan(nlri);
        int messages;
        if (key.Withdraw)
            messages = UpdateWriter.WriteWithdrawals(w, Codec, span, key.V6);
        else
        {
            // Encoded once per attribute set and family in a pass, whatever the batches' members.
            var attrs = key.Attributes!;
            var encodedAttributes = key.V6 ? _encodedV6 : _encodedV4;
            if (!encodedAttributes.TryGetValue(attrs, out var encoded))
                encodedAttributes[attrs] = encoded = AttributeEncoder.Encode(attrs, Codec, ipv4NextHop: !key.V6);
            messages = key.V6
                ? UpdateWriter.WriteAnnouncements(w, Codec, encoded, span, true, attrs.NextHop!.Value, attrs.NextHopLinkLocal)
                : UpdateWriter.WriteAnnouncements(w, Codec, encoded, span, false);
        }
        // The members' queues keep exactly the messages (a writer sized per batch kept about six times
        // the bytes of a /24 batch alive, and allocated them per prefix).
        var bytes = w.WrittenSpan.ToArray();
        if (w.Capacity > ScratchKeep)
            _scratch = new ArrayBufferWriter<byte>(ScratchInitial);
        return (bytes, messages);
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
                foreach (var p in _out.PathsAt(i, ref one))
                {
                    if (!ReferenceEquals(p.Source, me))
                        _batches.Add(new BatchKey(false, p.Route.Prefix.IsV6, p.Attributes, null, null), new Nlri(p.Route.Prefix, p.Id));
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
                foreach (var p in _out.PathsAt(_out.Find(n.Prefix, AdjRibOut.Hash(n.Prefix)), ref one))
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
        foreach (var withdraw in (ReadOnlySpan<bool>)[true, false])
        {
            for (var b = 0; b < _batches.Count; b++)
            {
                var key = _batches.KeyAt(b);
                if (key.Withdraw != withdraw)
                    continue;
                var nlri = _batches.NlriAt(b);
                var (bytes, messages) = Encode(key, nlri);
                _registry.CountResync(messages);
                member.EnqueueAlways(bytes);
                me.TraceExport(key.Withdraw, nlri, key.Attributes);
            }
        }
        _batches.Clear();
        _encodedV4.Clear();
        _encodedV6.Clear();
        if (member.SentEndOfRib && !member.PendingEndOfRib && !member.EndOfRibQueued)
        {
            member.EndOfRibQueued = true;
            member.EnqueueAlways(EndOfRib());
            me.TraceEndOfRibSent();
        }
    }
}
