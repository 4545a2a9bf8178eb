using Calico.Bgp.Daemon.Control;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Hosting;

internal sealed partial class RoutingDaemon
{
    private ControlServer? _control;

    /// <summary>Starting, reconfiguring or shutting down, for <c>show status</c>.</summary>
    public DaemonPhase Phase { get; private set; } = DaemonPhase.Running;

    /// <summary>Claims the control socket path; fails the start when another daemon answers there.</summary>
    private void BindControlSocket()
    {
        var backend = new ControlBackend(this);
        _control = new ControlServer(_cl.SocketPath, backend, _loggers.CreateLogger("control"), _time);
        try
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(_cl.SocketPath));
            if (dir is not null)
                Directory.CreateDirectory(dir);
            _control.Bind();
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException)
        {
            ExitCode = 1;
            throw new DaemonStartException($"Cannot create control socket {_cl.SocketPath}: {e.Message}", e);
        }
    }

    /// <summary>Serves the control socket, once the protocols exist (so the first <c>show protocols</c> lists them).</summary>
    private void StartControlSocket() => _control?.Start();

    private async Task StopControlSocketAsync()
    {
        Phase = DaemonPhase.ShuttingDown;
        if (_control is not null)
            await _control.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The control socket's <c>down</c>.</summary>
    public void Shutdown()
    {
        _log.LogInformation("Shutdown requested from the control socket");
        _lifetime.StopApplication();
    }
}
