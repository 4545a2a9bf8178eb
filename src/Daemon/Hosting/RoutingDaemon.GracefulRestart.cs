using Calico.Bgp.Daemon.Control;
using Calico.Bgp.Fib.Kernel;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker;
using Calico.Bgp.Speaker.Session;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Hosting;

/// <summary>
/// Graceful-restart recovery after <c>-R</c>, as BIRD 1.6 runs it: kernel protocols with
/// <c>graceful restart</c> keep the routes they find in the kernel, every BGP protocol with
/// <c>graceful restart</c> holds a lock until it has the peer's full table (End-of-RIB), and when
/// the last lock goes or the wait timer (240 s) runs out, the kernel protocols prune what is stale.
/// </summary>
internal sealed partial class RoutingDaemon
{
    /// <summary>BIRD's default <c>graceful restart wait</c>.</summary>
    private const int GracefulRestartWaitSeconds = 240;

    private readonly Lock _recoveryLock = new();
    private HashSet<string>? _recoveryWaiting;
    private DateTimeOffset _recoveryDeadline;
    private Task _recoveryLoop = Task.CompletedTask;

    /// <summary>The <c>0024</c> lines of <c>show status</c>, or null when not recovering.</summary>
    public GracefulRecoveryStatus? GracefulRecoveryStatus
    {
        get
        {
            lock (_recoveryLock)
            {
                if (_recoveryWaiting is null)
                    return null;
                var left = (int)Math.Ceiling(Math.Max(0, (_recoveryDeadline - _time.GetUtcNow()).TotalSeconds));
                return new GracefulRecoveryStatus(_recoveryWaiting.Count, left, GracefulRestartWaitSeconds);
            }
        }
    }

    /// <summary>Whether <paramref name="protocol"/> still holds the recovery lock (<c>GR recovery: pending</c>).</summary>
    public bool HoldsRecoveryLock(Protocol protocol)
    {
        lock (_recoveryLock)
            return _recoveryWaiting?.Contains(protocol.Name) == true;
    }

    /// <summary>Called once the first config runs: begins recovery when started with <c>-R</c>.</summary>
    private void BeginGracefulRecovery()
    {
        if (!_cl.GracefulRestart)
            return;
        var waiting = Protocols.OfType<BgpProtocol>().Where(b => b.Options.GracefulRestart && !IsDisabled(b)).Select(b => b.Name).ToHashSet(StringComparer.Ordinal);
        lock (_recoveryLock)
        {
            _recoveryWaiting = waiting;
            _recoveryDeadline = _time.GetUtcNow().AddSeconds(GracefulRestartWaitSeconds);
        }
        _log.LogInformation("Graceful restart started, waiting for {Count} protocols to recover", waiting.Count);
        _recoveryLoop = RecoveryLoopAsync(_stopping.Token);
    }

    private async Task RecoveryLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                bool done;
                lock (_recoveryLock)
                {
                    _recoveryWaiting!.RemoveWhere(name => Protocols.FirstOrDefault(p => p.Name == name) is not BgpProtocol b || IsDisabled(b) || Recovered(b));
                    done = _recoveryWaiting.Count == 0 || _time.GetUtcNow() >= _recoveryDeadline;
                }
                if (done)
                    break;
                await Task.Delay(TimeSpan.FromMilliseconds(200), _time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }
        lock (_recoveryLock)
            _recoveryWaiting = null;
        foreach (var kernel in Protocols.OfType<KernelProtocol>())
            kernel.EndGracefulRecovery();
        _log.LogInformation("Graceful restart done");
    }

    /// <summary>A BGP protocol has recovered once it is Established and has the peer's End-of-RIB.</summary>
    private static bool Recovered(BgpProtocol b) => b.BgpState == BgpState.Established && b.ReceivedEndOfRib;
}
