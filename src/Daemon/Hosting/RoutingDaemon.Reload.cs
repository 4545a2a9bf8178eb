using Calico.Bgp.Config;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Hosting;

/// <summary>
/// What a reload did: <paramref name="Message"/> for the log (<c>file:line:col: message</c>) and
/// <paramref name="BirdText"/> as BIRD's <c>configure</c> words it (<c>file:line:col message</c>).
/// </summary>
internal sealed record ReloadResult(bool Ok, string Path, string Message, string BirdText);

internal sealed partial class RoutingDaemon
{
    /// <summary>A reload asked for by SIGHUP or <c>configure</c>; bursts coalesce into one.</summary>
    private sealed record ReloadRequest(string? File, bool CheckOnly, TaskCompletionSource<ReloadResult>? Done);

    /// <summary>SIGHUP: reload the <c>-c</c> file. Several in a row (confd sends one per file) coalesce.</summary>
    public void RequestReload() => _reloads.Writer.TryWrite(new ReloadRequest(null, false, null));

    /// <summary>
    /// The control socket's <c>configure [check] ["file"]</c>: parses the file, and unless only
    /// checking, applies it. A bad config leaves the running one in place.
    /// </summary>
    public async Task<ReloadResult> ReloadAsync(string? file, bool checkOnly, CancellationToken cancellationToken)
    {
        await _configLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ReloadLockedAsync(file, checkOnly, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _configLock.Release();
        }
    }

    private async Task ReloadLoopAsync(CancellationToken cancellationToken)
    {
        await foreach (var req in _reloads.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            var result = await ReloadAsync(req.File, req.CheckOnly, cancellationToken).ConfigureAwait(false);
            req.Done?.TrySetResult(result);
        }
    }

    private async Task<ReloadResult> ReloadLockedAsync(string? file, bool checkOnly, CancellationToken cancellationToken)
    {
        var path = file ?? _cl.ConfigFile;
        BirdConfig config;
        try
        {
            config = ConfigLoader.Load(path, new ConfigLoadOptions { Ipv6 = _cl.Ipv6 });
        }
        catch (ConfigException e)
        {
            _log.LogError("Reconfiguration failed, keeping the running configuration: {Error}", e.Message);
            return new ReloadResult(false, path, e.Message, $"{e.Location} {e.Reason}");
        }
        catch (FileNotFoundException)
        {
            _log.LogError("Reconfiguration failed, keeping the running configuration: {File}: No such file or directory", path);
            return new ReloadResult(false, path, $"{path}: No such file or directory", $"{path}: No such file or directory");
        }
        catch (IOException e)
        {
            _log.LogError("Reconfiguration failed, keeping the running configuration: {File}: {Error}", path, e.Message);
            return new ReloadResult(false, path, $"{path}: {e.Message}", $"{path}: {e.Message}");
        }
        if (checkOnly)
            return new ReloadResult(true, path, "Configuration OK", "Configuration OK");
        Phase = Control.DaemonPhase.Reconfiguring;
        try
        {
            await ApplyAsync(config, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Phase = Control.DaemonPhase.Running;
        }
        LastReconfigured = _time.GetUtcNow();
        _log.LogInformation("Reconfigured");
        return new ReloadResult(true, path, "Reconfigured", "Reconfigured");
    }

    /// <summary>
    /// Makes the running protocols match <paramref name="config"/>: unchanged ones keep running
    /// untouched, changed ones restart, removed ones stop, new ones start.
    /// </summary>
    private async Task ApplyAsync(BirdConfig config, CancellationToken cancellationToken, Action? beforeStart = null)
    {
        var old = Config;
        Config = config;
        await EnsureListenerAsync(config).ConfigureAwait(false);
        var factory = new ProtocolFactory(config, Table, _time, _loggers, _listener, _updateGroups, _cl);
        var wanted = config.Protocols.Select((p, i) => (Config: p, Order: i)).ToList();
        var routerIdChanged = old is not null && old.RouterId != config.RouterId;

        List<RunningProtocol> toStop = [];
        List<(ProtocolConfig Config, int Order)> toStart = [];
        lock (_protocols)
        {
            var names = wanted.Select(w => w.Config.Name).ToHashSet(StringComparer.Ordinal);
            toStop.AddRange(_protocols.Values.Where(p => !names.Contains(p.Config.Name)));
            foreach (var (pc, order) in wanted)
            {
                if (_protocols.TryGetValue(pc.Name, out var running))
                {
                    if (!routerIdChanged && running.Config.Equals(pc))
                    {
                        _protocols[pc.Name] = running with { Order = order };
                        continue;
                    }
                    toStop.Add(running);
                }
                toStart.Add((pc, order));
            }
        }
        foreach (var p in toStop)
        {
            _log.LogInformation("{Protocol}: {Action}", p.Config.Name, toStart.Any(s => s.Config.Name == p.Config.Name) ? "restarting (configuration changed)" : "shutting down (removed from configuration)");
            await StopProtocolAsync(p, cancellationToken).ConfigureAwait(false);
        }
        var created = toStart.Select(s => new RunningProtocol(s.Config, factory.Create(s.Config), s.Order)).ToList();
        lock (_protocols)
        {
            foreach (var running in created)
                _protocols[running.Config.Name] = running;
        }
        ConnectInterfaceSource(created);
        beforeStart?.Invoke();
        foreach (var running in created)
        {
            if (running.Config.Disabled)
            {
                _disabled[running.Config.Name] = true;
                continue;
            }
            _disabled.TryRemove(running.Config.Name, out _);
            await running.Instance.StartAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task StopProtocolAsync(RunningProtocol p, CancellationToken cancellationToken)
    {
        lock (_protocols)
        {
            if (_protocols.TryGetValue(p.Config.Name, out var current) && ReferenceEquals(current.Instance, p.Instance))
                _protocols.Remove(p.Config.Name);
        }
        try
        {
            await p.Instance.StopAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _log.LogError(e, "{Protocol}: error while stopping", p.Config.Name);
        }
        if (p.Instance is BgpProtocol bgp)
            _listener?.Unregister(bgp);
    }

    /// <summary>One BGP listener per <c>listen bgp</c> address and port (179 on all addresses by default).</summary>
    private async Task EnsureListenerAsync(BirdConfig config)
    {
        var wantsBgp = config.Protocols.OfType<BgpProtocolConfig>().Any();
        var listen = config.ListenBgp ?? new ListenBgpConfig(null, 179);
        if (_listener is not null && (!wantsBgp || !Equals(listen, _listenConfig)))
        {
            await _listener.DisposeAsync().ConfigureAwait(false);
            _listener = null;
        }
        if (_listener is null && wantsBgp)
        {
            _listener = new BgpListener(listen.Address, listen.Port, _loggers);
            _listener.Start();
            _listenConfig = listen;
        }
    }

    /// <summary>
    /// Lets the new direct, static and kernel protocols follow the device protocol's interface
    /// events (as BIRD's protocols follow its interface list) instead of polling on their own.
    /// </summary>
    private void ConnectInterfaceSource(List<RunningProtocol> created)
    {
        Fib.Interfaces.DeviceProtocol? device;
        lock (_protocols)
            device = _protocols.Values.Select(p => p.Instance).OfType<Fib.Interfaces.DeviceProtocol>().FirstOrDefault();
        if (device is null)
            return;
        foreach (var p in created)
        {
            switch (p.Instance)
            {
                case Fib.Interfaces.DirectProtocol direct:
                    direct.InterfaceSource = device;
                    break;
                case Fib.Static.StaticProtocol stat:
                    stat.InterfaceSource = device;
                    break;
                case Fib.Kernel.KernelProtocol kernel:
                    kernel.InterfaceSource = device;
                    break;
            }
        }
    }
}
