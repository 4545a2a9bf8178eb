using System.Collections.Concurrent;
using Calico.Bgp.Config;
using Calico.Bgp.Daemon.Control;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Hosting;

/// <summary>The control socket's per-protocol commands: enable, disable, restart, reload, debug.</summary>
internal sealed partial class RoutingDaemon
{
    private readonly ConcurrentDictionary<string, string> _messages = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _disabled = new(StringComparer.Ordinal);

    /// <summary>The config a running protocol was built from.</summary>
    public ProtocolConfig? ConfigOf(Protocol protocol)
    {
        lock (_protocols)
            return _protocols.TryGetValue(protocol.Name, out var p) && ReferenceEquals(p.Instance, protocol) ? p.Config : null;
    }

    /// <summary>BIRD's one message per protocol: the operator's, or a BGP neighbour's shutdown communication received since (RFC 9003).</summary>
    public string? MessageOf(Protocol protocol) =>
        protocol is BgpProtocol { ReceivedShutdownMessage: { } received } ? received : _messages.GetValueOrDefault(protocol.Name);

    /// <summary>Disabled in the config (<c>disabled;</c>) or by <c>disable</c>, and not enabled since.</summary>
    /// <remarks>An import limit with <c>action disable</c> also leaves the protocol disabled, as in BIRD.</remarks>
    public bool IsDisabled(Protocol protocol) =>
        _disabled.ContainsKey(protocol.Name) || protocol is BgpProtocol { DisabledByImportLimit: true };

    public async Task<ProtocolActionResult> EnableAsync(Protocol protocol, string? message, CancellationToken cancellationToken)
    {
        if (!IsDisabled(protocol))
            return ProtocolActionResult.AlreadyEnabled;
        _disabled.TryRemove(protocol.Name, out _);
        SetMessage(protocol, message);
        _log.LogInformation("{Protocol}: enabled", protocol.Name);
        await protocol.StartAsync(cancellationToken).ConfigureAwait(false);
        return ProtocolActionResult.Done;
    }

    public async Task<ProtocolActionResult> DisableAsync(Protocol protocol, string? message, CancellationToken cancellationToken)
    {
        if (IsDisabled(protocol))
            return ProtocolActionResult.AlreadyDisabled;
        _disabled[protocol.Name] = true;
        SetMessage(protocol, message);
        _log.LogInformation("{Protocol}: disabled", protocol.Name);
        // BGP tells the neighbour why (RFC 9003 shutdown communication).
        if (protocol is BgpProtocol bgp)
            await bgp.StopAsync(restart: false, message, cancellationToken).ConfigureAwait(false);
        else
            await protocol.StopAsync(cancellationToken).ConfigureAwait(false);
        return ProtocolActionResult.Done;
    }

    public async Task<ProtocolActionResult> RestartProtocolAsync(Protocol protocol, string? message, CancellationToken cancellationToken)
    {
        if (IsDisabled(protocol))
            return ProtocolActionResult.AlreadyDisabled;
        SetMessage(protocol, message);
        _log.LogInformation("{Protocol}: restarting", protocol.Name);
        if (protocol is BgpProtocol bgp)
            await bgp.StopAsync(restart: true, message, cancellationToken).ConfigureAwait(false);
        else
            await protocol.StopAsync(cancellationToken).ConfigureAwait(false);
        await protocol.StartAsync(cancellationToken).ConfigureAwait(false);
        return ProtocolActionResult.Done;
    }

    /// <summary>
    /// <c>reload [in|out] P</c>: re-run the filters over the routes the protocol holds (in) or has
    /// sent (out) without resetting it. Our protocols keep what they need to do both.
    /// </summary>
    public Task<ProtocolActionResult> ReloadProtocolAsync(Protocol protocol, ReloadDirection direction, CancellationToken cancellationToken)
    {
        if (IsDisabled(protocol))
            return Task.FromResult(ProtocolActionResult.AlreadyDisabled);
        if (protocol.State != ProtocolState.Up)
            return Task.FromResult(ProtocolActionResult.NotUp);
        switch (protocol)
        {
            case BgpProtocol bgp:
                bgp.Reload(direction != ReloadDirection.Out, direction != ReloadDirection.In);
                break;
            case Fib.Kernel.KernelProtocol kernel:
                kernel.RequestScan();
                break;
        }
        return Task.FromResult(ProtocolActionResult.Done);
    }

    private void SetMessage(Protocol protocol, string? message)
    {
        (protocol as BgpProtocol)?.ClearReceivedShutdownMessage();
        if (message is null)
            _messages.TryRemove(protocol.Name, out _);
        else
            _messages[protocol.Name] = message;
    }
}
