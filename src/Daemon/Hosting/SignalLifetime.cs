using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Hosting;

/// <summary>
/// BIRD's signals: SIGTERM and SIGINT stop the daemon cleanly (kernel routes stay with
/// <c>persist</c>); SIGHUP reloads the config (Calico's confd does <c>sv hup bird</c>).
/// </summary>
internal sealed class SignalLifetime(IHostApplicationLifetime lifetime, RoutingDaemon daemon, ILogger<SignalLifetime> logger) : IHostLifetime, IDisposable
{
    private readonly List<PosixSignalRegistration> _registrations = [];

    public Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop));
        _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop));
        _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGQUIT, Stop));
        _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGHUP, ctx =>
        {
            ctx.Cancel = true;
            logger.LogInformation("Reconfiguration requested by SIGHUP");
            daemon.RequestReload();
        }));
        return Task.CompletedTask;
    }

    private void Stop(PosixSignalContext ctx)
    {
        ctx.Cancel = true;
        logger.LogInformation("Shutting down on {Signal}", ctx.Signal);
        lifetime.StopApplication();
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        foreach (var r in _registrations)
            r.Dispose();
    }
}
