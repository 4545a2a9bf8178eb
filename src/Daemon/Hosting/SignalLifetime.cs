using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Hosting;

/// <summary>
/// BIRD's signals: SIGTERM and SIGINT stop the daemon cleanly (kernel routes stay with
/// <c>persist</c>); SIGHUP reloads the config (Calico's confd does <c>sv hup bird</c>).
/// </summary>
/// <remarks>
/// A signal the parent left ignored (<c>nohup</c> ignores SIGHUP; a shell's <c>trap '' TERM</c>) stays
/// ignored across exec, and .NET keeps an ignored signal ignored when a handler is registered for it:
/// such a daemon never reloaded on SIGHUP, silently. BIRD sets its handlers whatever it inherited, so
/// SIGHUP and SIGTERM are put back to their default first (SIGINT and SIGQUIT the runtime has already
/// taken at start-up, and it leaves those as they came).
/// </remarks>
internal sealed partial class SignalLifetime(IHostApplicationLifetime lifetime, RoutingDaemon daemon, ILogger<SignalLifetime> logger) : IHostLifetime, IDisposable
{
    private readonly List<PosixSignalRegistration> _registrations = [];

    public Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        Unignore(SigHup, "SIGHUP");
        Unignore(SigTerm, "SIGTERM");
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

    /// <summary>Puts an inherited SIG_IGN back to SIG_DFL, so that the handler registered next is installed.</summary>
    private void Unignore(int signal, string name)
    {
        if (!OperatingSystem.IsLinux())
            return;
        if (SetDisposition(signal, SigDfl) == SigIgn)
            logger.LogInformation("{Signal} was ignored when the daemon started (nohup?); it is handled as BIRD handles it", name);
    }

    private const int SigHup = 1;
    private const int SigTerm = 15;
    private static readonly nint SigDfl = 0;
    private static readonly nint SigIgn = 1;

    [LibraryImport("libc", EntryPoint = "signal")]
    private static partial nint SetDisposition(int signal, nint handler);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        foreach (var r in _registrations)
            r.Dispose();
    }
}
