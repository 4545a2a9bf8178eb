using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Fib.Kernel;

/// <summary>A reload that changes only the export filter: the protocol keeps running and re-plans every prefix.</summary>
public sealed partial class KernelProtocol
{
    /// <summary>
    /// Takes a new export filter. Every prefix of the table is re-planned through it by the reconcile
    /// loop; a prefix whose kernel route comes out the same is not written (the plan compares with
    /// what is installed). Returns false when the filter is equal to the running one (nothing to do).
    /// </summary>
    public bool ReconfigureExport(RouteFilter exportFilter)
    {
        var old = _options;
        if (Equals(old.ExportFilter, exportFilter))
            return false;
        _options = old with { ExportFilter = exportFilter };
        // The loop starts over from the table (a resync of its journal reader) at its next turn.
        _refeedRequested = true;
        _wake.Writer.TryWrite(true);
        _log.LogInformation("{Protocol}: export filter changed, re-exporting the table", Name);
        return true;
    }
}
