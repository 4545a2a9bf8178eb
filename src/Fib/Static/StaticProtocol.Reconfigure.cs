using Calico.Bgp.Fib.Interfaces;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Fib.Static;

/// <summary>A reload that adds or removes routes, or changes the import filter: updated in place.</summary>
public sealed partial class StaticProtocol
{
    // The interfaces of the last sync, so a reload re-checks gateways without reading them again.
    private InterfaceSnapshot _lastLinks = InterfaceSnapshot.Empty;

    /// <summary>
    /// Takes new routes and import filter: routes no longer configured are withdrawn, the rest go
    /// through the usual sync (unchanged ones are not touched). False when the change needs a restart:
    /// another preference or check time, or <c>via</c> (or multipath) routes where none were (the gateway check
    /// only runs for a protocol started with them).
    /// </summary>
    public bool TryReconfigure(StaticProtocolOptions options)
    {
        lock (Gate)
        {
            if (options.Preference != _options.Preference || options.CheckTime != _options.CheckTime)
                return false;
            if (options.Routes.Any(r => r.HasGateways) && !NeedsInterfaces && IsRunning)
                return false;
            _options = options;
            var wanted = options.Routes.Select(r => r.Prefix).ToHashSet();
            foreach (var prefix in _present.Keys.Where(p => !wanted.Contains(p)).ToList())
            {
                _present.Remove(prefix);
                Table.Withdraw(prefix, this);
                TraceRoute("removed", prefix);
                Stats.AddImported(-1);
                Stats.CountImportWithdraw(true);
            }
            if (IsRunning)
                Sync(_lastLinks);
        }
        Log.LogInformation("{Protocol}: reconfigured in place ({Count} routes)", Name, options.Routes.Count);
        return true;
    }
}
