using Calico.Bgp.Config;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker;
using Calico.Bgp.Speaker.Wire;
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
            var result = await ReloadLockedAsync(file, checkOnly, cancellationToken).ConfigureAwait(false);
            if (!checkOnly)
                LastReload = new Metrics.ReloadOutcome(result.Ok, _time.GetUtcNow());
            return result;
        }
        finally
        {
            _configLock.Release();
        }
    }

    /// <summary>
    /// confd rewrites three files per family and sends a SIGHUP after each: a request waits until
    /// the signals have been quiet for <see cref="ReloadQuietTime"/> (at most <see cref="ReloadMaxDelay"/>),
    /// so a burst becomes one reload of the final files.
    /// </summary>
    private static readonly TimeSpan ReloadQuietTime = TimeSpan.FromMilliseconds(400);
    private static readonly TimeSpan ReloadMaxDelay = TimeSpan.FromSeconds(2);

    private async Task ReloadLoopAsync(CancellationToken cancellationToken)
    {
        var reader = _reloads.Reader;
        while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!reader.TryRead(out var req))
                continue;
            var deadline = _time.GetUtcNow() + ReloadMaxDelay;
            List<TaskCompletionSource<ReloadResult>> waiting = req.Done is { } d ? [d] : [];
            while (true)
            {
                var wait = deadline - _time.GetUtcNow();
                if (wait > ReloadQuietTime)
                    wait = ReloadQuietTime;
                if (wait <= TimeSpan.Zero)
                    break;
                using var quiet = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                quiet.CancelAfter(wait);
                try
                {
                    var more = await reader.ReadAsync(quiet.Token).ConfigureAwait(false);
                    if (more.Done is { } md)
                        waiting.Add(md);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    break;
                }
            }
            var result = await ReloadAsync(req.File, req.CheckOnly, cancellationToken).ConfigureAwait(false);
            foreach (var w in waiting)
                w.TrySetResult(result);
        }
    }

    private async Task<ReloadResult> ReloadLockedAsync(string? file, bool checkOnly, CancellationToken cancellationToken)
    {
        var path = file ?? _cl.ConfigFile;
        BirdConfig config;
        try
        {
            config = ConfigLoader.Load(path, _cl.ConfigOptions);
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
        _memory.Reloaded();
        return new ReloadResult(true, path, "Reconfigured", "Reconfigured");
    }

    /// <summary>
    /// Makes the running protocols match <paramref name="config"/>: unchanged ones keep running
    /// untouched; ones whose policy alone changed (filters, static routes) take it in place and
    /// re-evaluate without a reset; ones whose session or machinery changed restart; removed ones
    /// stop (BGP with a Cease); new ones start.
    /// </summary>
    private async Task ApplyAsync(BirdConfig config, CancellationToken cancellationToken, Action? beforeStart = null)
    {
        var old = Config;
        Config = config;
        ApplyDebugFlags(config);
        var listenerChanged = await EnsureListenerAsync(config).ConfigureAwait(false);
        var factory = new ProtocolFactory(config, Table, _time, _loggers, _listener, _updateGroups, _cl) { SharedFilters = RunningExportFilters(), Debug = _debug, CategoryLoggers = _categoryLoggers, SessionTimers = _sessionTimers };
        var wanted = config.Protocols.Select((p, i) => (Config: p, Order: i)).ToList();
        // The router id goes in every OPEN and the listener hands sessions their sockets: BGP restarts for either.
        var bgpRestart = old is not null && (old.RouterId != config.RouterId || listenerChanged);

        List<RunningProtocol> toStop = [];
        List<(RunningProtocol Running, ProtocolConfig Config, int Order)> toUpdate = [];
        List<(ProtocolConfig Config, int Order)> toStart = [];
        lock (_protocols)
        {
            var names = wanted.Select(w => w.Config.Name).ToHashSet(StringComparer.Ordinal);
            toStop.AddRange(_protocols.Values.Where(p => !names.Contains(p.Config.Name)));
            foreach (var (pc, order) in wanted)
            {
                if (_protocols.TryGetValue(pc.Name, out var running))
                {
                    var mustRestart = bgpRestart && running.Instance is BgpProtocol;
                    if (!mustRestart && running.Config.Equals(pc))
                    {
                        _protocols[pc.Name] = running with { Order = order };
                        continue;
                    }
                    if (!mustRestart && running.Config.GetType() == pc.GetType() && running.Config.Disabled == pc.Disabled)
                    {
                        toUpdate.Add((running, pc, order));
                        continue;
                    }
                    toStop.Add(running);
                }
                toStart.Add((pc, order));
            }
        }
        foreach (var (running, pc, order) in toUpdate)
        {
            if (factory.TryReconfigure(running.Instance, running.Config, pc))
            {
                _log.LogInformation("{Protocol}: reconfigured in place", pc.Name);
                lock (_protocols)
                    _protocols[pc.Name] = running with { Config = pc, Order = order };
                continue;
            }
            toStop.Add(running);
            toStart.Add((pc, order));
        }
        foreach (var p in toStop)
        {
            var restarting = toStart.Any(s => s.Config.Name == p.Config.Name);
            _log.LogInformation("{Protocol}: {Action}", p.Config.Name, restarting ? "restarting (configuration changed)" : "shutting down (removed from configuration)");
            // As BIRD 1.6's bgp_shutdown (RFC 4486 §3): a removed peer hears Cease "Peer De-configured",
            // one whose configuration changed "Other Configuration Change".
            await StopProtocolAsync(p, cancellationToken, restarting ? CeaseSubcode.OtherConfigurationChange : CeaseSubcode.PeerDeconfigured).ConfigureAwait(false);
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
        // Accept only once every BGP protocol has registered its neighbour: a peer that connects in
        // between waits in the socket's queue instead of being refused as a stranger.
        if (_listener is { IsAccepting: false })
            _listener.StartAccepting();
    }

    /// <summary>The export filter instances of the running BGP sessions, so equal new ones join their update groups.</summary>
    private Dictionary<RouteFilter, RouteFilter> RunningExportFilters()
    {
        var shared = new Dictionary<RouteFilter, RouteFilter>();
        lock (_protocols)
        {
            foreach (var bgp in _protocols.Values.Select(p => p.Instance).OfType<BgpProtocol>())
                shared.TryAdd(bgp.Options.ExportFilter, bgp.Options.ExportFilter);
        }
        return shared;
    }

    /// <summary>Stops a protocol; a BGP session tells its peer why (<paramref name="cease"/>, Administrative Shutdown by default).</summary>
    private async Task StopProtocolAsync(RunningProtocol p, CancellationToken cancellationToken, CeaseSubcode cease = CeaseSubcode.AdministrativeShutdown)
    {
        lock (_protocols)
        {
            if (_protocols.TryGetValue(p.Config.Name, out var current) && ReferenceEquals(current.Instance, p.Instance))
                _protocols.Remove(p.Config.Name);
        }
        try
        {
            if (p.Instance is BgpProtocol session)
                await session.StopAsync(cease, cancellationToken).ConfigureAwait(false);
            else
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
    /// <returns>Whether an existing listener was replaced (its sessions must move to the new one).</returns>
    private async Task<bool> EnsureListenerAsync(BirdConfig config)
    {
        var wantsBgp = config.Protocols.OfType<BgpProtocolConfig>().Any();
        var listen = config.ListenBgp ?? new ListenBgpConfig(null, 179);
        var replaced = false;
        if (_listener is not null && (!wantsBgp || !Equals(listen, _listenConfig)))
        {
            await _listener.DisposeAsync().ConfigureAwait(false);
            _listener = null;
            replaced = true;
        }
        if (_listener is null && wantsBgp)
        {
            // Bound here (a port in use fails before any protocol starts); accepting starts at the end
            // of ApplyAsync, after the protocols have registered.
            _listener = new BgpListener(listen.Address, listen.Port, _loggers);
            _listener.Open();
            _listenConfig = listen;
        }
        return replaced;
    }

    /// <summary>
    /// Lets the new direct, static and kernel protocols follow the device protocol's interface
    /// events (as BIRD's protocols follow its interface list) instead of polling on their own.
    /// </summary>
    private Fib.Interfaces.DeviceProtocol? _localAddressesFrom;
    private HashSet<IpAddr> _localAddresses = [];

    /// <summary>
    /// Tells the table's next-hop cache which addresses are ours, from the device protocol's interface
    /// list (a next hop that is one resolves to nothing, as in BIRD), and has it look again when they change.
    /// </summary>
    private void WatchLocalAddresses(Fib.Interfaces.DeviceProtocol device)
    {
        if (ReferenceEquals(device, _localAddressesFrom))
            return;
        if (_localAddressesFrom is { } old)
            old.Changed -= OnInterfacesChanged;
        _localAddressesFrom = device;
        device.Changed += OnInterfacesChanged;
        Table.Hosts.IsLocalAddress = (address, name) =>
            _localAddressesFrom?.Interfaces.ByName(name) is { } link && link.Addresses.Any(a => a.Address == address);
        OnInterfacesChanged(device.Interfaces);
    }

    /// <summary>Workload interfaces come and go without addresses: only a change of our addresses looks the next hops up again.</summary>
    private void OnInterfacesChanged(Fib.Interfaces.InterfaceSnapshot links)
    {
        var now = links.Interfaces.SelectMany(i => i.Addresses).Select(a => a.Address).ToHashSet();
        if (now.SetEquals(Volatile.Read(ref _localAddresses)))
            return;
        Volatile.Write(ref _localAddresses, now);
        Table.Hosts.Invalidate();
    }

    private void ConnectInterfaceSource(List<RunningProtocol> created)
    {
        Fib.Interfaces.DeviceProtocol? device;
        lock (_protocols)
            device = _protocols.Values.Select(p => p.Instance).OfType<Fib.Interfaces.DeviceProtocol>().FirstOrDefault();
        if (device is null)
            return;
        WatchLocalAddresses(device);
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
