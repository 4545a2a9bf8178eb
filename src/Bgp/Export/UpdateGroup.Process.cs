using System.Buffers;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Speaker.Export;

public sealed partial class UpdateGroup
{
    /// <summary>
    /// NLRI that go in the same messages: withdrawal or announcement, family, attributes, and the
    /// members they go to (all but <paramref name="Except"/>, or <paramref name="Only"/> that one).
    /// </summary>
    private readonly record struct BatchKey(bool Withdraw, bool V6, PathAttributes? Attributes, Protocol? Except, Protocol? Only)
    {
        public bool Targets(UpdateGroupMember m) => Only is { } o ? ReferenceEquals(m.Protocol, o) : !ReferenceEquals(m.Protocol, Except);
    }

    // Prefixes already brought up to date in the current chunk (reused: no allocation per pass).
    private readonly HashSet<Prefix> _seen = [];
    private readonly List<PathOut> _desired = [];

    /// <summary>
    /// Brings the Adj-RIB-Out up to date for a chunk of journal changes and queues the UPDATEs. Each
    /// change carries the prefix's whole entry, so only the newest change of a prefix in the chunk
    /// counts (read newest first; older ones are skipped): churn within a chunk coalesces, and no
    /// prefix is announced and withdrawn in the same batch. Under <see cref="Sync"/>.
    /// </summary>
    private void Process(ReadOnlySpan<TableChange> changes)
    {
        var batches = new Dictionary<BatchKey, List<Nlri>>();
        _seen.Clear();
        for (var i = changes.Length - 1; i >= 0; i--)
        {
            var entry = changes[i].Entry;
            if (_seen.Add(entry.Prefix))
                Bring(entry.Prefix, entry, batches);
        }
        _seen.Clear();
        Finish(batches);
    }

    /// <summary>
    /// Compares the whole table (<paramref name="entries"/>, from a journal resync) with the
    /// Adj-RIB-Out: every prefix in the table, and withdrawals for those the group sent that are
    /// gone. Under <see cref="Sync"/>.
    /// </summary>
    private void ProcessResync(List<RouteEntry> entries)
    {
        var batches = new Dictionary<BatchKey, List<Nlri>>();
        _seen.Clear();
        foreach (var entry in entries)
        {
            _seen.Add(entry.Prefix);
            Bring(entry.Prefix, entry, batches);
        }
        List<Prefix>? gone = null;
        foreach (var prefix in _out.Keys)
        {
            if (!_seen.Contains(prefix))
                (gone ??= []).Add(prefix);
        }
        _seen.Clear();
        if (gone is not null)
        {
            foreach (var prefix in gone)
                Bring(prefix, null, batches);
        }
        Finish(batches);
    }

    /// <summary>Diffs one prefix's desired paths against what the members have, adding the UPDATEs to <paramref name="batches"/>.</summary>
    private void Bring(Prefix prefix, RouteEntry? entry, Dictionary<BatchKey, List<Nlri>> batches)
    {
        if (prefix.IsV6 ? !Key.Options.Ipv6 : !Key.Options.Ipv4)
            return;
        var desired = _desired;
        desired.Clear();
        Desired(entry, desired);
        if (!_out.TryGetValue(prefix, out var old))
            old = [];
        var next = Codec.SendsPathId(prefix.IsV6) ? DiffAddPath(prefix, old, desired, batches) : DiffBest(prefix, old, desired, batches);
        if (ReferenceEquals(next, old))
            return;
        foreach (var p in old)
            _excluded[p.Source] = _excluded.GetValueOrDefault(p.Source) - 1;
        foreach (var p in next)
            _excluded[p.Source] = _excluded.GetValueOrDefault(p.Source) + 1;
        _pathCount += next.Length - old.Length;
        if (next.Length == 0)
            _out.Remove(prefix);
        else
            _out[prefix] = next;
    }

    /// <summary>Encodes and queues a pass's batches and brings the members' exported counts up to date.</summary>
    private void Finish(Dictionary<BatchKey, List<Nlri>> batches)
    {
        ClearMemo();
        Emit(batches);
        foreach (var m in _members)
        {
            var exported = _pathCount - _excluded.GetValueOrDefault(m.Protocol);
            m.Protocol.Stats.AddExported(exported - m.ReportedExported);
            m.ReportedExported = exported;
        }
    }

    /// <summary>Without ADD-PATH: one path per prefix, the best; a new one implicitly replaces the old (RFC 4271 §3.1).</summary>
    private static PathOut[] DiffBest(Prefix prefix, PathOut[] old, List<PathOut> desired, Dictionary<BatchKey, List<Nlri>> batches)
    {
        var nlri = new Nlri(prefix);
        if (desired.Count == 0)
        {
            if (old.Length == 0)
                return old;
            Add(batches, new BatchKey(true, prefix.IsV6, null, old[0].Source, null), nlri);
            return [];
        }
        var n = desired[0];
        if (old.Length > 0 && ReferenceEquals(old[0].Attributes, n.Attributes) && ReferenceEquals(old[0].Source, n.Source))
            return old;
        Add(batches, new BatchKey(false, prefix.IsV6, n.Attributes, n.Source, null), nlri);
        // The new best came from a member that had the old one from us: it loses it (split horizon).
        if (old.Length > 0 && !ReferenceEquals(old[0].Source, n.Source))
            Add(batches, new BatchKey(true, prefix.IsV6, null, null, n.Source), nlri);
        return [n];
    }

    /// <summary>
    /// With ADD-PATH (RFC 7911 §3): each source route keeps its path identifier while it exists; a
    /// new route takes the lowest identifier not in use (nor freed in this pass, so a withdrawal and
    /// an announcement never name the same path in one batch).
    /// </summary>
    private static PathOut[] DiffAddPath(Prefix prefix, PathOut[] old, List<PathOut> desired, Dictionary<BatchKey, List<Nlri>> batches)
    {
        if (old.Length == 0 && desired.Count == 0)
            return old;
        var used = new HashSet<uint>(old.Select(o => o.Id));
        var matched = new bool[old.Length];
        var next = new PathOut[desired.Count];
        var changed = old.Length != desired.Count;
        uint candidate = 1;
        for (var i = 0; i < desired.Count; i++)
        {
            var d = desired[i];
            var j = Array.FindIndex(old, o => ReferenceEquals(o.Source, d.Source) && o.SourcePathId == d.SourcePathId);
            if (j >= 0)
            {
                matched[j] = true;
                next[i] = d with { Id = old[j].Id };
                if (ReferenceEquals(old[j].Attributes, d.Attributes))
                    continue;
            }
            else
            {
                while (used.Contains(candidate))
                    candidate++;
                used.Add(candidate);
                next[i] = d with { Id = candidate };
            }
            changed = true;
            Add(batches, new BatchKey(false, prefix.IsV6, d.Attributes, d.Source, null), new Nlri(prefix, next[i].Id));
        }
        for (var j = 0; j < old.Length; j++)
        {
            if (!matched[j])
                Add(batches, new BatchKey(true, prefix.IsV6, null, old[j].Source, null), new Nlri(prefix, old[j].Id));
        }
        return changed ? next : old;
    }

    private static void Add(Dictionary<BatchKey, List<Nlri>> batches, BatchKey key, Nlri nlri)
    {
        if (!batches.TryGetValue(key, out var list))
            batches[key] = list = [];
        list.Add(nlri);
    }

    /// <summary>Encodes each batch once and queues the same bytes to every member it targets; withdrawals first.</summary>
    private void Emit(Dictionary<BatchKey, List<Nlri>> batches)
    {
        if (batches.Count == 0 || _members.Count == 0)
            return;
        var encodedAttributes = new Dictionary<(PathAttributes, bool), byte[]>();
        foreach (var (key, nlri) in batches.OrderBy(b => b.Key.Withdraw ? 0 : 1))
        {
            var (bytes, messages) = Encode(key, nlri, encodedAttributes);
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

    private (ReadOnlyMemory<byte> Bytes, int Messages) Encode(BatchKey key, List<Nlri> nlri, Dictionary<(PathAttributes, bool), byte[]> encodedAttributes)
    {
        var w = new ArrayBufferWriter<byte>(Math.Min(1 << 20, 64 + nlri.Count * 24));
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(nlri);
        int messages;
        if (key.Withdraw)
            messages = UpdateWriter.WriteWithdrawals(w, Codec, span, key.V6);
        else
        {
            var attrs = key.Attributes!;
            if (!encodedAttributes.TryGetValue((attrs, key.V6), out var encoded))
                encodedAttributes[(attrs, key.V6)] = encoded = AttributeEncoder.Encode(attrs, Codec, ipv4NextHop: !key.V6);
            messages = key.V6
                ? UpdateWriter.WriteAnnouncements(w, Codec, encoded, span, true, attrs.NextHop!.Value, attrs.NextHopLinkLocal)
                : UpdateWriter.WriteAnnouncements(w, Codec, encoded, span, false);
        }
        return (w.WrittenMemory, messages);
    }

    /// <summary>
    /// Encodes for <paramref name="member"/> alone what it is missing: every path (joined, route
    /// refresh) or the paths that changed while it was behind. Under <see cref="Sync"/>.
    /// </summary>
    internal void Resync(UpdateGroupMember member)
    {
        var batches = new Dictionary<BatchKey, List<Nlri>>();
        var me = member.Protocol;
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
                        Add(batches, new BatchKey(true, n.Prefix.IsV6, null, null, null), n);
                }
            }
            foreach (var (prefix, paths) in _out)
            {
                foreach (var p in paths)
                {
                    if (!ReferenceEquals(p.Source, me))
                        Add(batches, new BatchKey(false, prefix.IsV6, p.Attributes, null, null), new Nlri(prefix, p.Id));
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
                if (_out.TryGetValue(n.Prefix, out var paths))
                {
                    foreach (var p in paths)
                    {
                        if (p.Id == n.PathId && !ReferenceEquals(p.Source, me))
                        {
                            Add(batches, new BatchKey(false, n.Prefix.IsV6, p.Attributes, null, null), n);
                            found = true;
                        }
                    }
                }
                if (!found)
                    Add(batches, new BatchKey(true, n.Prefix.IsV6, null, null, null), n);
            }
        }
        var encodedAttributes = new Dictionary<(PathAttributes, bool), byte[]>();
        foreach (var (key, nlri) in batches.OrderBy(b => b.Key.Withdraw ? 0 : 1))
        {
            var (bytes, messages) = Encode(key, nlri, encodedAttributes);
            _registry.CountResync(messages);
            member.EnqueueAlways(bytes);
            me.TraceExport(key.Withdraw, nlri, key.Attributes);
        }
        if (member.SentEndOfRib && !member.PendingEndOfRib && !member.EndOfRibQueued)
        {
            member.EndOfRibQueued = true;
            member.EnqueueAlways(EndOfRib());
            me.TraceEndOfRibSent();
        }
    }
}
