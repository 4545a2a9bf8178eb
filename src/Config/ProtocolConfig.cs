using Calico.Bgp.Rib;

namespace Calico.Bgp.Config;

/// <summary>BIRD's <c>debug { … }</c> categories.</summary>
[Flags]
public enum DebugFlags
{
    None = 0,
    States = 1,
    Routes = 2,
    Filters = 4,
    Interfaces = 8,
    Events = 16,
    Packets = 32,
    All = States | Routes | Filters | Interfaces | Events | Packets,
}

/// <summary>What <c>import limit N action …</c> does when the limit is hit.</summary>
public enum LimitAction
{
    Disable,
    Warn,
    Block,
    Restart,
}

/// <summary>BIRD's <c>import limit N [action warn|block|restart|disable]</c>.</summary>
public sealed record ImportLimit(uint Limit, LimitAction Action);

/// <summary>
/// Options every protocol has (BIRD's <c>proto_config</c>). Equality ignores <see cref="Location"/>,
/// so moving a block in the file does not count as a change on reload; compiled filters compare
/// by their text, so an unchanged filter compares equal.
/// </summary>
public abstract record ProtocolConfig
{
    public required string Name { get; init; }
    /// <summary>The template the protocol was created <c>from</c>, if any.</summary>
    public string? TemplateName { get; init; }
    public SourceLocation Location { get; init; }
    public bool Disabled { get; init; }
    public string? Description { get; init; }
    public DebugFlags Debug { get; init; }
    /// <summary>Preference for imported routes; null keeps the protocol type's default.</summary>
    public int? Preference { get; init; }
    /// <summary>BIRD's default: <c>import all</c>.</summary>
    public RouteFilter ImportFilter { get; init; } = RouteFilter.AcceptAll;
    /// <summary>BIRD's default: <c>export none</c>.</summary>
    public RouteFilter ExportFilter { get; init; } = RouteFilter.RejectAll;
    public ImportLimit? ImportLimit { get; init; }

    /// <summary>What BIRD 1.6 prints as "Input filter:": ACCEPT, REJECT, the filter name or (unnamed).</summary>
    public string ImportFilterName => ImportFilter.Name;

    /// <summary>What BIRD 1.6 prints as "Output filter:".</summary>
    public string ExportFilterName => ExportFilter.Name;

    /// <summary>The type column of <c>show protocols</c>.</summary>
    public abstract string TypeName { get; }

    public virtual bool Equals(ProtocolConfig? other) =>
        other is not null
        && EqualityContract == other.EqualityContract
        && Name == other.Name
        && TemplateName == other.TemplateName
        && Disabled == other.Disabled
        && Description == other.Description
        && Debug == other.Debug
        && Preference == other.Preference
        && Equals(ImportFilter, other.ImportFilter)
        && Equals(ExportFilter, other.ExportFilter)
        && Equals(ImportLimit, other.ImportLimit);

    public override int GetHashCode() =>
        HashCode.Combine(Name, TemplateName, Disabled, Description, Debug, Preference, ImportFilter, ExportFilter);
}
