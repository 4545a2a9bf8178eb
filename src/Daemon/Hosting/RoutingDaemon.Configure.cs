using Calico.Bgp.Config;
using Calico.Bgp.Daemon.Control;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Hosting;

/// <summary>
/// The control socket's <c>configure</c>, with BIRD's <c>timeout</c>/<c>confirm</c>/<c>undo</c>: a
/// config applied with a timeout is rolled back unless confirmed in time.
/// </summary>
internal sealed partial class RoutingDaemon
{
    private BirdConfig? _undoConfig;
    private CancellationTokenSource? _undoTimer;

    public async Task<ConfigureResult> ConfigureAsync(ConfigureRequest request, CancellationToken cancellationToken)
    {
        switch (request.Kind)
        {
            case ConfigureKind.Confirm:
                return CancelUndo() ? ConfigureResult.Confirmed() : ConfigureResult.NothingToDo();
            case ConfigureKind.Undo:
                return await UndoAsync(cancellationToken).ConfigureAwait(false) ? ConfigureResult.UndoRequested() : ConfigureResult.NothingToDo();
        }
        var path = request.File ?? _cl.ConfigFile;
        if (Phase == DaemonPhase.ShuttingDown)
            return ConfigureResult.IgnoredShuttingDown(path);
        var before = Config;
        var result = await ReloadAsync(request.File, request.Kind == ConfigureKind.Check, cancellationToken).ConfigureAwait(false);
        if (!result.Ok)
            return ConfigureResult.Error(path, result.BirdText);
        if (request.Kind == ConfigureKind.Check)
            return ConfigureResult.Ok(path);
        if (request.TimeoutSeconds is { } seconds && before is not null)
        {
            ScheduleUndo(before, seconds);
            return ConfigureResult.ReconfiguredWithUndo(path, seconds);
        }
        CancelUndo();
        return ConfigureResult.Reconfigured(path);
    }

    private void ScheduleUndo(BirdConfig previous, int seconds)
    {
        CancelUndo();
        var cts = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        _undoConfig = previous;
        _undoTimer = cts;
        _ = Task.Run(async () =>
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(seconds), _time, cts.Token).ConfigureAwait(false);
                _log.LogInformation("Configuration not confirmed in {Seconds} s, undoing", seconds);
                await UndoAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Confirmed, replaced or shutting down.
            }
        });
    }

    private bool CancelUndo()
    {
        var timer = Interlocked.Exchange(ref _undoTimer, null);
        if (timer is null)
            return false;
        timer.Cancel();
        timer.Dispose();
        return true;
    }

    private async Task<bool> UndoAsync(CancellationToken cancellationToken)
    {
        await _configLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var previous = Interlocked.Exchange(ref _undoConfig, null);
            if (previous is null)
                return false;
            Interlocked.Exchange(ref _undoTimer, null)?.Dispose();
            await ApplyAsync(previous, cancellationToken).ConfigureAwait(false);
            LastReconfigured = _time.GetUtcNow();
            _log.LogInformation("Reconfigured (undo)");
            _memory.Reloaded();
            return true;
        }
        finally
        {
            _configLock.Release();
        }
    }
}
