using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Speaker;

public sealed partial class BgpProtocol
{
    /// <summary>
    /// Applies one UPDATE to the table. Returns an error when the session must be reset
    /// (RFC 7606 session reset); treat-as-withdraw and attribute discard are handled here.
    /// </summary>
    private BgpError? ImportUpdate(ReadOnlySpan<byte> body, in BgpCodec codec)
    {
        if (!UpdateMessage.TryParse(body, out var update, out var error))
            return error;
        // RFC 7606 §5.3: NLRI that cannot be parsed reset the session (Invalid Network Field).
        if (!NlriReader.Validate(update.Withdrawn, false, codec.ReceivesPathId(false)) ||
            !NlriReader.Validate(update.Nlri, false, codec.ReceivesPathId(false)))
            return BgpError.Update(UpdateErrorSubcode.InvalidNetworkField);
        if (update.IsIpv4EndOfRib)
        {
            EndOfRib(v6: false);
            return null;
        }
        // The field the session last announced IPv4 routes with is not decoded again (AttributeMemo);
        // a withdrawal between two announcements (churn) leaves it kept.
        var context = new DecodeContext(IsInternal, Options.NeighborAddress);
        var hasIpv4Nlri = !update.Nlri.IsEmpty;
        PathAttributes? known = null;
        // A withdrawal alone carries no attributes: nothing to decode, and no set it would use.
        var bare = update.Attributes.IsEmpty && !hasIpv4Nlri;
        var remembered = !bare && _attributeMemo.TryGet(update.Attributes, codec, context, hasIpv4Nlri, out known);
        var d = bare || remembered
            ? new DecodedAttributes { Attributes = known ?? PathAttributes.Empty }
            : AttributeDecoder.Decode(update.Attributes, codec, context, hasIpv4Nlri);
        if (!remembered && hasIpv4Nlri && d.Action == ErrorAction.None && !d.HasMpReach && !d.HasMpUnreach)
            _attributeMemo.Keep(update.Attributes, codec, context, hasIpv4Nlri, d.Attributes);
        if (d.Action == ErrorAction.SessionReset)
            return d.Error;
        if (d.HasMpReach && !NlriReader.Validate(d.MpReachNlri, d.MpReachFamily.Afi == Afi.Ipv6, codec.ReceivesPathId(d.MpReachFamily.Afi == Afi.Ipv6)))
            return BgpError.Update(UpdateErrorSubcode.OptionalAttributeError);
        if (d.HasMpUnreach && !NlriReader.Validate(d.MpUnreachNlri, d.MpUnreachFamily.Afi == Afi.Ipv6, codec.ReceivesPathId(d.MpUnreachFamily.Afi == Afi.Ipv6)))
            return BgpError.Update(UpdateErrorSubcode.OptionalAttributeError);
        if (d.Action != ErrorAction.None)
            _log.LogWarning("{Name}: malformed UPDATE ({Error}), {Action}", Name, d.Error?.Description, d.Action);

        // One UPDATE's changes to the Adj-RIB-In and the table go together, never interleaved with a
        // re-evaluation under a new import filter (a reload).
        lock (_adjRibIn.Sync)
        {
            Apply(update, d, codec);
            Stats.Add(ref _tally);
        }
        return TakeImportLimitAction();
    }

    private readonly AttributeMemo _attributeMemo = new();

    /// <summary>UPDATEs whose attribute field was the one kept (tests).</summary>
    internal long AttributeMemoHits => _attributeMemo.Hits;

    // The counts of the UPDATE (or re-evaluation) being applied, added to Stats when it ends. Under _adjRibIn.Sync.
    private ImportTally _tally;

    /// <summary>Under <c>_adjRibIn.Sync</c>, so a next hop's new resolution (<see cref="ResolveAgain"/>) is never overtaken by an UPDATE resolved the old way.</summary>
    private void Apply(in UpdateMessage update, in DecodedAttributes d, in BgpCodec codec)
    {
        if (!update.Withdrawn.IsEmpty)
        {
            using var batch = Table.BeginBatch();
            foreach (var w in new NlriReader(update.Withdrawn, false, codec.ReceivesPathId(false)))
                Withdraw(w);
        }
        if (d.HasMpUnreach)
        {
            var v6 = d.MpUnreachFamily.Afi == Afi.Ipv6;
            if (d.MpUnreachNlri.IsEmpty && !d.HasMpReach && update.Nlri.IsEmpty && update.Withdrawn.IsEmpty)
            {
                // RFC 4724 §2: an MP_UNREACH_NLRI with no NLRI is the End-of-RIB of that family.
                EndOfRib(v6);
            }
            if (!d.MpUnreachNlri.IsEmpty)
            {
                using var batch = Table.BeginBatch();
                foreach (var w in new NlriReader(d.MpUnreachNlri, v6, codec.ReceivesPathId(v6)))
                    Withdraw(w);
            }
        }
        if (update.Nlri.IsEmpty && !d.HasMpReach)
            return;
        var invalid = d.Action == ErrorAction.TreatAsWithdraw;
        var withdrawAll = invalid;
        // One clock read per UPDATE, not per prefix (a full table is a million reads otherwise): the
        // routes of one message arrived together.
        var since = Time.GetUtcNow();
        PathAttributes? attrs = null;
        if (!withdrawAll)
        {
            if (IsLooped(d.Attributes))
                withdrawAll = true;
            else
                attrs = _attributeMemo.Intern(ResolveNextHop(d.Attributes), Table.Attributes);
        }
        // The prefixes of one UPDATE go into the table as one batch: the table's lock once, and its
        // exporters woken once, per message instead of per prefix (bench/RESULTS-perf.md, thirteenth round).
        using var announcements = Table.BeginBatch();
        foreach (var n in new NlriReader(update.Nlri, false, codec.ReceivesPathId(false)))
            Announce(n, attrs, withdrawAll, invalid, since);
        if (d.HasMpReach)
        {
            var v6 = d.MpReachFamily.Afi == Afi.Ipv6;
            foreach (var n in new NlriReader(d.MpReachNlri, v6, codec.ReceivesPathId(v6)))
                Announce(n, attrs, withdrawAll, invalid, since);
        }
    }

    /// <summary>
    /// Loop prevention: our AS in the path of an eBGP route (RFC 4271 §9.1.2, with BIRD's
    /// <c>allow local as</c>), our router id as ORIGINATOR_ID or our cluster id in CLUSTER_LIST (RFC 4456 §8).
    /// </summary>
    private bool IsLooped(PathAttributes a)
    {
        if (!IsInternal && a.AsPath is { } path && path.Count(Options.LocalAs) > (Options.AllowLocalAs ?? 0))
            return true;
        if (a.OriginatorId == Options.RouterId)
            return true;
        return !a.ClusterList.IsDefault && a.ClusterList.Contains(Options.ClusterId);
    }

    private void Announce(in Nlri n, PathAttributes? attrs, bool withdraw, bool invalid, DateTimeOffset since)
    {
        if (withdraw || attrs is null)
        {
            // RFC 7606 treat-as-withdraw: an invalid update (BIRD's "rejected"); a looped path is a
            // withdrawal, as BIRD 1.6 makes it.
            if (invalid)
            {
                _tally.UpdatesRejected++;
                _adjRibIn.Remove(n);
                if (Table.Withdraw(n.Prefix, this, n.PathId))
                    _tally.Imported--;
            }
            else
                Withdraw(n);
            return;
        }
        // Kept before policy (STYLE.md), so a new import filter re-evaluates without the neighbour.
        _adjRibIn.Set(n, attrs);
        ApplyImportFilter(n, attrs, since);
    }

    /// <summary>
    /// Runs the import filter over one received path and puts the outcome in the table; true when
    /// accepted. Counted as BIRD's <c>rte_update</c> does: filtered, ignored (the same route again) or
    /// accepted, in <see cref="_tally"/> (the caller adds it to the stats). Under <c>_adjRibIn.Sync</c>.
    /// </summary>
    private bool ApplyImportFilter(in Nlri n, PathAttributes attrs, DateTimeOffset since)
    {
        var route = Route.Create(n.Prefix, attrs, this, n.PathId, since: since);
        var accepted = Options.ImportFilter.Apply(route, Table.Attributes);
        TraceImportFilter(n.Prefix, accepted is not null);
        if (accepted is null)
        {
            _tally.Update(false);
            if (Table.Withdraw(n.Prefix, this, n.PathId))
                _tally.Imported--;
            return false;
        }
        // Only a route new to the table counts against the import limit; a replacement does not.
        // The lookup is paid only with a limit: otherwise the table's own answer tells what happened.
        if (Options.ImportLimit is not null && Existing(n) is null && !AdmitUnderImportLimit())
            return false;
        var outcome = Table.Update(accepted);
        switch (outcome)
        {
            case RouteUpdate.Unchanged:
                _tally.UpdatesIgnored++;
                break;
            case RouteUpdate.Added:
                _tally.Update(true);
                _tally.Imported++;
                break;
            default:
                _tally.Update(true);
                break;
        }
        if (Trace.Routes.IsEnabled(LogLevel.Debug))
            TraceImport(outcome switch { RouteUpdate.Added => "added", RouteUpdate.Unchanged => "ignored", _ => "updated" }, n.Prefix, accepted.Attributes);
        return true;
    }

    private void Withdraw(in Nlri n)
    {
        _adjRibIn.Remove(n);
        var removed = Table.Withdraw(n.Prefix, this, n.PathId);
        _tally.Withdraw(removed);
        if (removed)
        {
            _tally.Imported--;
            TraceImport("removed", n.Prefix, null);
        }
    }

    /// <summary>How long an importer waits for the table's readers before it reads on regardless (they resync if they fall further behind).</summary>
    private static readonly TimeSpan CorkWait = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Back-pressure (BIRD 3's cork): while a reader of the table's journal (an update group, the
    /// kernel) is far behind, stop reading from this peer so the reader catches up instead of falling
    /// off the journal into a full resync. TCP then holds the peer. Bounded, so a stuck reader can
    /// never stall the session past its hold time.
    /// </summary>
    private async ValueTask WaitForExportersAsync(CancellationToken ct)
    {
        var uncorked = Table.WaitUncorkedAsync();
        if (!uncorked.IsCompleted)
            await uncorked.WaitAsync(CorkWait, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>The route the table holds for this path from us; a stale one counts, it is still imported (BIRD does the same).</summary>
    private Route? Existing(in Nlri n)
    {
        var entry = Table.Find(n.Prefix);
        if (entry is null)
            return null;
        foreach (var r in entry.Routes)
        {
            if (ReferenceEquals(r.Protocol, this) && r.PathId == n.PathId)
                return r;
        }
        return null;
    }
}
