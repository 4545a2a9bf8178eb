using Calico.Bgp.Rib;

namespace Calico.Bgp.Daemon.Control;

/// <summary>The daemon's overall phase, as the <c>0013</c> line of <c>show status</c> names it.</summary>
public enum DaemonPhase
{
    Running,
    Reconfiguring,
    ShuttingDown,
}

/// <summary>The <c>0024</c> block of <c>show status</c> while graceful-restart recovery runs.</summary>
/// <param name="ProtocolsWaiting">Protocols still holding the GR lock (<c>Waiting for N protocols to recover</c>).</param>
/// <param name="WaitRemainingSeconds">Seconds left on the wait timer (BIRD prints remaining/total).</param>
/// <param name="WaitTotalSeconds">The <c>graceful restart wait</c> time (240 by default).</param>
public sealed record GracefulRecoveryStatus(int ProtocolsWaiting, int WaitRemainingSeconds, int WaitTotalSeconds);

/// <summary>
/// What <c>show protocols [all]</c> prints about a protocol beyond <see cref="Protocol"/> itself.
/// </summary>
public sealed record ProtocolDetail
{
    public static readonly ProtocolDetail Default = new();

    /// <summary>
    /// Overrides the state column when BIRD 1.6 shows more than the protocol state: <c>wait</c>
    /// (up, export held back during GR recovery), <c>feed</c> (up, initial export), <c>flush</c>
    /// (down, routes being flushed). Null: derived from <see cref="Protocol.State"/>.
    /// </summary>
    public string? StateWord { get; init; }

    /// <summary>
    /// Overrides <see cref="Protocol.Info"/> in the info column: a BGP protocol disabled by command
    /// shows nothing there in BIRD (its error class is "manual down"), whatever closed the socket.
    /// </summary>
    public string? Info { get; init; }

    /// <summary>The <c>description</c> option.</summary>
    public string? Description { get; init; }

    /// <summary>The message given to the last enable/disable/restart.</summary>
    public string? Message { get; init; }

    /// <summary>The configured <c>router id</c> of the protocol, when set.</summary>
    public uint? RouterId { get; init; }

    /// <summary><c>ACCEPT</c>, <c>REJECT</c>, a filter name or <c>(unnamed)</c> (see <see cref="RouteFilter.Name"/>).</summary>
    public string ImportFilter { get; init; } = "ACCEPT";

    public string ExportFilter { get; init; } = "REJECT";

    /// <summary>Holds a graceful-restart lock (<c>GR recovery:    pending</c>).</summary>
    public bool GracefulRecoveryPending { get; init; }

    /// <summary>Waits for recovery before exporting (<c>GR recovery:    waiting</c>, the kernel protocol).</summary>
    public bool GracefulRecoveryWaiting { get; init; }

    /// <summary><c>import limit N action …</c>, shown after the filters (BIRD 1.6's <c>proto_show_limit</c>); null without one.</summary>
    public ProtocolLimit? ImportLimit { get; init; }

    /// <summary><c>import keep filtered</c>: the Routes line also counts filtered routes.</summary>
    public bool KeepFiltered { get; init; }

    /// <summary>Overrides the statistics derived from <see cref="Protocol.Stats"/>, for protocols that count more.</summary>
    public RouteChangeStats? RouteStats { get; init; }

    /// <summary>
    /// Protocol-specific lines printed after the route statistics, each already indented as BIRD
    /// does (e.g. <c>"  BGP state:          Established"</c>, <c>"    Neighbor address: 10.99.0.1"</c>).
    /// </summary>
    public IReadOnlyList<string> ExtraLines { get; init; } = [];
}

/// <summary>A route limit of a protocol as <c>show protocols all</c> prints it.</summary>
/// <param name="Limit">The configured number of routes.</param>
/// <param name="Action">BIRD's action word: <c>warn</c>, <c>block</c>, <c>restart</c>, <c>disable</c>.</param>
/// <param name="Hit">The limit was hit and not reset since (BIRD's <c>[HIT]</c>).</param>
public sealed record ProtocolLimit(long Limit, string Action, bool Hit);

/// <summary>A config symbol for <c>show symbols</c>.</summary>
/// <param name="Name">The symbol as written in the config.</param>
/// <param name="Class">BIRD's class word: <c>filter</c>, <c>function</c>, <c>template</c>, <c>constant</c>, <c>routing table</c>, …</param>
public sealed record ControlSymbol(string Name, string Class);

/// <summary>One interface for <c>show interfaces</c>.</summary>
/// <param name="Name">Interface name.</param>
/// <param name="Up">Link up and usable (BIRD's <c>up</c>/<c>DOWN</c>).</param>
/// <param name="Index">Kernel ifindex.</param>
/// <param name="Flags">BIRD's flag words in order, e.g. <c>MultiAccess Broadcast Multicast AdminUp LinkUp</c>.</param>
/// <param name="Mtu">MTU.</param>
/// <param name="Addresses">Addresses, the primary one first.</param>
public sealed record InterfaceStatus(string Name, bool Up, int Index, string Flags, int Mtu, IReadOnlyList<InterfaceAddress> Addresses);

/// <summary>An interface address: <c>10.99.0.2/24 (Primary, scope site)</c>.</summary>
public sealed record InterfaceAddress(IpAddr Address, int PrefixLength, bool Primary, string Scope, IpAddr? Opposite = null);

/// <summary>The verdict of <see cref="IControlBackend.PreviewExport"/>.</summary>
public enum ExportVerdict
{
    /// <summary>Refused before the filter (import control): never listed.</summary>
    Refused,
    /// <summary>Rejected by the export filter: listed only by <c>noexport</c>.</summary>
    Filtered,
    /// <summary>Accepted: listed by <c>export</c>.</summary>
    Accepted,
}

/// <summary>An export verdict with the route as the filter left it (for <c>show route all export</c>).</summary>
public readonly record struct ExportPreview(ExportVerdict Verdict, Route Route);

/// <summary>The outcome of enable/disable/restart/reload, mapped to BIRD's reply codes.</summary>
public enum ProtocolActionResult
{
    /// <summary><c>0011 enabled</c>, <c>0009 disabled</c>, <c>0012 restarted</c>, <c>0015 reloading</c>.</summary>
    Done,
    /// <summary><c>0010 P: already enabled</c>.</summary>
    AlreadyEnabled,
    /// <summary><c>0008 P: already disabled</c>.</summary>
    AlreadyDisabled,
    /// <summary>Reload of a protocol that is not up: BIRD prints nothing for it.</summary>
    NotUp,
    /// <summary><c>8006 P: reload failed</c>.</summary>
    Failed,
}

public enum ReloadDirection
{
    Both,
    In,
    Out,
}

/// <summary>BIRD's debug flags (<c>D_STATES</c> …).</summary>
[Flags]
public enum ProtocolDebug
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

/// <summary>
/// The <c>Route change stats</c> table of <c>show protocols all</c>, BIRD's <c>proto_stats</c>. Built
/// from a protocol's <see cref="ProtocolStats"/>; a test or a protocol with counters of its own may
/// supply it through <see cref="ProtocolDetail.RouteStats"/> instead.
/// </summary>
public sealed record RouteChangeStats(
    long ImportUpdatesReceived, long ImportUpdatesRejected, long ImportUpdatesFiltered, long ImportUpdatesIgnored, long ImportUpdatesAccepted,
    long ImportWithdrawsReceived, long ImportWithdrawsRejected, long ImportWithdrawsIgnored, long ImportWithdrawsAccepted,
    long ExportUpdatesReceived, long ExportUpdatesRejected, long ExportUpdatesFiltered, long ExportUpdatesAccepted,
    long ExportWithdrawsReceived, long ExportWithdrawsAccepted)
{
    /// <summary>
    /// BIRD's <c>proto_stats</c> from our counters: import "ignored" is what was received and neither
    /// rejected, filtered nor accepted (the same route again); export "received" is every offer.
    /// </summary>
    public static RouteChangeStats From(ProtocolStats s) => new(
        s.ImportUpdatesReceived, s.ImportUpdatesRejected, s.ImportUpdatesFiltered,
        Math.Max(0, s.ImportUpdatesReceived - s.ImportUpdatesRejected - s.ImportUpdatesFiltered - s.ImportUpdatesAccepted), s.ImportUpdatesAccepted,
        s.ImportWithdrawsReceived, 0, s.ImportWithdrawsIgnored, s.ImportWithdrawsAccepted,
        s.ExportUpdatesReceived, s.ExportUpdatesRejected, s.ExportUpdatesFiltered, s.ExportUpdatesSent,
        s.ExportWithdrawsReceived, s.ExportWithdrawsSent);
}
