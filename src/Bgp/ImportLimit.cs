namespace Calico.Bgp.Speaker;

/// <summary>What BIRD 1.6 does when a protocol's <c>import limit</c> is hit.</summary>
public enum ImportLimitAction
{
    /// <summary>BIRD's default: Cease "Maximum number of prefixes reached", and down until <c>enable</c>.</summary>
    Disable,
    /// <summary>Log, and keep importing.</summary>
    Warn,
    /// <summary>Drop further new routes (counted as ignored) while the protocol holds the limit or more.</summary>
    Block,
    /// <summary>Cease "Maximum number of prefixes reached", then connect again after the error wait.</summary>
    Restart,
}

/// <summary>
/// BIRD's <c>import limit N [action …]</c>: at most <paramref name="Limit"/> routes accepted by the
/// import filter held in the table from this protocol. The Speaker's own copy of the config's, as
/// the Speaker does not reference the config model.
/// </summary>
public sealed record ImportLimit(uint Limit, ImportLimitAction Action = ImportLimitAction.Disable)
{
    /// <summary>The action's name as BIRD prints it in the log and in <c>show protocols all</c>.</summary>
    public string ActionName => Action switch
    {
        ImportLimitAction.Warn => "warn",
        ImportLimitAction.Block => "block",
        ImportLimitAction.Restart => "restart",
        _ => "disable",
    };
}
