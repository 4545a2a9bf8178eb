using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Export;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Speaker;

/// <summary>
/// A reload that changes only the session's policy: the session stays up. A new import filter is
/// run over the Adj-RIB-In kept before policy; a new export filter moves the peer to the update
/// group of its new policy, which sends it the difference.
/// </summary>
public sealed partial class BgpProtocol
{
    private readonly AdjRibIn _adjRibIn;
    // Orders export filter changes against the export loop joining and leaving its group.
    private readonly Lock _exportLock = new();

    /// <summary>The paths received in this session, before the import filter.</summary>
    public AdjRibIn AdjRibIn => _adjRibIn;

    /// <summary>
    /// Takes new filters (and description) without touching the session. A filter equal to the running
    /// one (same text) keeps the running instance, so nothing is re-evaluated for it. Returns what was re-run.
    /// </summary>
    public ReconfigureOutcome Reconfigure(RouteFilter importFilter, RouteFilter exportFilter, string? description)
    {
        lock (_exportLock)
        {
            var old = Options;
            var import = Equals(old.ImportFilter, importFilter) ? old.ImportFilter : importFilter;
            var export = Equals(old.ExportFilter, exportFilter) ? old.ExportFilter : exportFilter;
            lock (_adjRibIn.Sync)
            {
                // Before the new filter can see an UPDATE: from here on the table may differ from
                // what was received, so the Adj-RIB-In must hold its own copy.
                if (!MirrorsAdjRibIn(import))
                    _adjRibIn.Materialize();
                Options = old with { ImportFilter = import, ExportFilter = export, Description = description };
            }
            var outcome = ReconfigureOutcome.None;
            if (!ReferenceEquals(import, old.ImportFilter))
            {
                var (accepted, rejected) = ReevaluateImport();
                _log.LogInformation("{Name}: import filter changed, re-evaluated {Count} received routes ({Accepted} accepted, {Rejected} rejected)", Name, accepted + rejected, accepted, rejected);
                outcome |= ReconfigureOutcome.Import;
            }
            if (!ReferenceEquals(export, old.ExportFilter))
            {
                if (_member is { } member)
                {
                    UpdateGroupKey key;
                    lock (_sync)
                        key = UpdateGroupKey.For(Table, Options, member.Group.Key.Codec, _localAddress);
                    _member = _groups.Move(member, key);
                }
                _log.LogInformation("{Name}: export filter changed, re-exporting", Name);
                outcome |= ReconfigureOutcome.Export;
            }
            return outcome;
        }
    }

    /// <summary>Runs the current import filter over every fresh path of the Adj-RIB-In; stale ones wait for the neighbour.</summary>
    private (int Accepted, int Rejected) ReevaluateImport()
    {
        var accepted = 0;
        var rejected = 0;
        lock (_adjRibIn.Sync)
        {
            var stale = false;
            var since = Time.GetUtcNow();
            foreach (var (nlri, entry) in _adjRibIn.Snapshot())
            {
                if (entry.Stale)
                {
                    stale = true;
                    continue;
                }
                if (ApplyImportFilter(nlri, entry.Attributes, since))
                    accepted++;
                else
                    rejected++;
            }
            // Back to `all`: the table now holds every fresh path as received. Stale paths were not
            // re-run (they wait for the neighbour), so the table may still hold an old filter's
            // version of them: keep the copy until they are gone.
            if (MirrorsAdjRibIn(Options.ImportFilter) && !stale)
                _adjRibIn.Mirror();
            Stats.Add(ref _tally);
        }
        return (accepted, rejected);
    }
}

/// <summary>What <see cref="BgpProtocol.Reconfigure"/> re-ran.</summary>
[Flags]
public enum ReconfigureOutcome
{
    None = 0,
    Import = 1,
    Export = 2,
}
