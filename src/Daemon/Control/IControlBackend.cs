using System.Diagnostics.CodeAnalysis;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Daemon.Control;

/// <summary>
/// What the control socket needs from the running daemon. The host implements it; the socket only
/// reads snapshots and asks for actions, so a slow client never holds anything the daemon needs.
/// Every member may be called from any thread, concurrently.
/// </summary>
public interface IControlBackend
{
    /// <summary>
    /// Version text after <c>BIRD </c> in the banner and in <c>show status</c>, the one source of it
    /// (the daemon's is <see cref="Hosting.BuildInfo.BirdCompatibleVersion"/>). Calico's status
    /// reporter takes what follows <c>BIRD </c> as the version and expects <c>v…</c>; it must be one
    /// token, since <c>BIRD %s ready.</c> is split on spaces.
    /// </summary>
    string Version { get; }

    /// <summary>The router id, IPv4 in network order as a number (<c>10.99.0.2</c> = 0x0A630002).</summary>
    uint RouterId { get; }

    DateTimeOffset StartedAt { get; }
    DateTimeOffset LastReconfigured { get; }

    /// <summary>Selects the <c>0013</c> text of <c>show status</c>.</summary>
    DaemonPhase Phase { get; }

    /// <summary>Non-null while graceful-restart recovery runs (<c>bird -R</c>): the <c>0024</c> block.</summary>
    GracefulRecoveryStatus? GracefulRecovery { get; }

    /// <summary>Protocols in configuration order (the order <c>show protocols</c> lists them).</summary>
    IReadOnlyList<Protocol> Protocols { get; }

    RoutingTable Table { get; }

    /// <summary>The parts of <c>show protocols all</c> a <see cref="Protocol"/> does not carry.</summary>
    ProtocolDetail Describe(Protocol protocol);

    /// <summary>Config symbols other than protocols (filters, functions, templates, constants), for <c>show symbols</c>.</summary>
    IReadOnlyList<ControlSymbol> Symbols { get; }

    /// <summary>Interfaces as the device protocol sees them, for <c>show interfaces</c>.</summary>
    IReadOnlyList<InterfaceStatus> Interfaces { get; }

    /// <summary>A named filter of the running config (<c>show route filter NAME</c>), or null.</summary>
    RouteFilter? FindFilter(string name);

    /// <summary>
    /// Compiles the condition of <c>show route where …</c>. On failure <paramref name="error"/> is the
    /// text of the <c>9001</c> reply (BIRD's parse message, e.g. <c>syntax error</c>).
    /// </summary>
    bool TryCompileWhere(string condition, [NotNullWhen(true)] out RouteFilter? filter, out string error);

    /// <summary>
    /// What <paramref name="target"/> would do with <paramref name="route"/> on export
    /// (<c>show route export|preexport|noexport P</c>): BGP's import control (no iBGP to iBGP
    /// without route reflection, not back to its source), then the export filter.
    /// </summary>
    ExportPreview PreviewExport(Protocol target, Route route);

    /// <summary>Runs <c>configure …</c>; the result carries BIRD's exact reply lines.</summary>
    Task<ConfigureResult> ConfigureAsync(ConfigureRequest request, CancellationToken cancellationToken);

    /// <summary><c>enable P ["msg"]</c>: <see cref="ProtocolActionResult.Done"/> or <see cref="ProtocolActionResult.AlreadyEnabled"/>.</summary>
    Task<ProtocolActionResult> EnableAsync(Protocol protocol, string? message, CancellationToken cancellationToken);

    /// <summary><c>disable P ["msg"]</c>: Done or AlreadyDisabled. The message goes to the peer (RFC 9003) and to <c>Message:</c>.</summary>
    Task<ProtocolActionResult> DisableAsync(Protocol protocol, string? message, CancellationToken cancellationToken);

    /// <summary><c>restart P ["msg"]</c>: Done or AlreadyDisabled.</summary>
    Task<ProtocolActionResult> RestartAsync(Protocol protocol, string? message, CancellationToken cancellationToken);

    /// <summary><c>reload [in|out] P</c>: Done (reloading), AlreadyDisabled, NotUp (nothing printed) or Failed.</summary>
    Task<ProtocolActionResult> ReloadAsync(Protocol protocol, ReloadDirection direction, CancellationToken cancellationToken);

    /// <summary><c>debug P all|off|{…}</c>.</summary>
    void SetDebug(Protocol protocol, ProtocolDebug flags);

    /// <summary><c>down</c>: begin an orderly shutdown (the reply has been sent already).</summary>
    void Shutdown();
}
