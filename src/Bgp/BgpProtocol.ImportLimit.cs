using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Session;
using Calico.Bgp.Speaker.Wire;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Speaker;

/// <summary>
/// BIRD 1.6's <c>import limit</c> (<c>rte_recalculate</c> and <c>proto_notify_limit</c>): checked
/// when a path not yet in the table is accepted by the import filter, against the routes the
/// protocol already holds. Everything here runs under <see cref="AdjRibIn.Sync"/>, as the import does.
/// </summary>
public sealed partial class BgpProtocol
{
    // The limit was hit: for warn, logged; for block, new routes are dropped.
    private bool _limitHit;
    // Restart or disable fired: every new route of this session is dropped (BIRD's PLS_BLOCKED)
    // until the next one, told apart by the Established count it fired in.
    private bool _limitTripped;
    private long _limitSession;
    // Restart or disable to carry out once the UPDATE that hit the limit is applied.
    private ImportLimitAction? _limitDown;
    private volatile bool _disabledByLimit;
    private long _importLimitHits;

    /// <summary>How many times the import limit was hit (each time BIRD logs it), for the metrics.</summary>
    public long ImportLimitHits => Interlocked.Read(ref _importLimitHits);

    /// <summary>The import limit is hit now: BIRD's <c>[HIT]</c> after the limit in <c>show protocols all</c>.</summary>
    public bool ImportLimitActive
    {
        get
        {
            lock (_adjRibIn.Sync)
                return _limitHit || _limitTripped;
        }
    }

    /// <summary>
    /// Stopped by <c>import limit … action disable</c>: down, as if disabled, until started again
    /// (BIRD sets the protocol's disabled flag, which only <c>enable</c> clears).
    /// </summary>
    public bool DisabledByImportLimit => _disabledByLimit && State == ProtocolState.Down;

    /// <summary>
    /// Whether a path new to the table, accepted by the import filter, may go in. BIRD checks before
    /// adding, so the route that would be the limit + 1st is the one that hits it.
    /// </summary>
    private bool AdmitUnderImportLimit()
    {
        if (Options.ImportLimit is not { } limit)
            return true;
        var session = Messages.EstablishedTransitions;
        if (_limitTripped && session != _limitSession)
        {
            // A new session since restart or disable fired: its routes start from nothing.
            _limitTripped = false;
            _disabledByLimit = false;
        }
        if (_limitTripped)
            return Drop();
        // With this UPDATE's routes so far, which are added to the stats when it ends.
        var count = Stats.Imported + _tally.Imported;
        if (count < limit.Limit)
        {
            // Below the limit again: block lets new routes in, and the next crossing is logged.
            _limitHit = false;
            return true;
        }
        switch (limit.Action)
        {
            case ImportLimitAction.Warn:
                // BIRD logs a warn limit on every arrival at exactly the limit, not only the first.
                if (!_limitHit || count == limit.Limit)
                    Hit(limit);
                _limitHit = true;
                return true;
            case ImportLimitAction.Block:
                if (!_limitHit)
                    Hit(limit);
                _limitHit = true;
                return Drop();
            default:
                Hit(limit);
                _log.LogWarning("{Name}: Route limit exceeded, shutting down", Name);
                _limitHit = _limitTripped = true;
                _limitSession = session;
                _limitDown = limit.Action;
                return Drop();
        }
    }

    private void Hit(ImportLimit limit)
    {
        Interlocked.Increment(ref _importLimitHits);
        _log.LogWarning("Protocol {Name} hits route import limit ({Limit}), action: {Action}", Name, limit.Limit, limit.ActionName);
    }

    /// <summary>A route over the limit: BIRD's "ignored [limit]", neither accepted nor filtered.</summary>
    private bool Drop()
    {
        _tally.UpdatesIgnored++;
        return false;
    }

    /// <summary>
    /// After an UPDATE: when it made restart or disable fire, the error that resets the session —
    /// Cease "Maximum number of prefixes reached" (RFC 4486 §4) — as BIRD's <c>bgp_shutdown</c> sends
    /// for <c>PDC_IN_LIMIT_HIT</c>; <see cref="ImportErrorEvent"/> makes it the FSM's automatic
    /// stop. Disable also stops the protocol so it stays down.
    /// </summary>
    private BgpError? TakeImportLimitAction()
    {
        ImportLimitAction? action;
        lock (_adjRibIn.Sync)
        {
            action = _limitDown;
            _limitDown = null;
        }
        if (action is null)
            return null;
        if (action == ImportLimitAction.Disable)
        {
            _disabledByLimit = true;
            // Not awaited: the stop waits for the session loop, which is the caller.
            _ = Task.Run(DisableForImportLimitAsync);
        }
        return BgpError.Cease(CeaseSubcode.MaximumPrefixes);
    }

    /// <summary>
    /// What BIRD 1.6 shows for a protocol the limit shut down: <c>bgp_err_classes[BE_AUTO_DOWN]</c>
    /// and <c>bgp_auto_errors[BEA_ROUTE_LIMIT_EXCEEDED]</c>, stored by <c>bgp_shutdown</c> for
    /// <c>PDC_IN_LIMIT_HIT</c> before the stop and kept through it.
    /// </summary>
    internal const string RouteLimitExceeded = "Automatic shutdown: Route limit exceeded";

    /// <summary>
    /// The FSM event for an error the import of an UPDATE returned. The import limit's Cease (the
    /// only Cease an import returns) is an automatic stop (RFC 4271 §8.1.2, event 8) that shows
    /// <see cref="RouteLimitExceeded"/> for restart as for disable: BIRD's <c>bgp_shutdown</c>
    /// stores it for <c>PDC_IN_LIMIT_HIT</c> whichever the action, and its restart keeps it until
    /// the next Established. Any other error is the UPDATE's own (event 28).
    /// </summary>
    private static FsmEvent ImportErrorEvent(BgpError error) =>
        error.Code == NotificationCode.Cease && error.Subcode == (byte)CeaseSubcode.MaximumPrefixes
            ? new FsmEvent(FsmEventKind.AutomaticStop, Reason: RouteLimitExceeded, StopSubcode: CeaseSubcode.MaximumPrefixes)
            : new FsmEvent(FsmEventKind.UpdateMsgErr, Error: error);

    private async Task DisableForImportLimitAsync()
    {
        try
        {
            // The stop records the error together with Down, not after it.
            await StopAsync(CeaseSubcode.MaximumPrefixes, default, RouteLimitExceeded, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _log.LogError(e, "{Name}: stopping for the import limit failed", Name);
        }
    }
}
