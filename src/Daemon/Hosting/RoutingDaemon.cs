using System.Threading.Channels;
using Calico.Bgp.Config;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Hosting;

/// <summary>
/// The running daemon: one routing table, one protocol instance per <c>protocol</c> block, the BGP
/// listener, and the control socket. Reloads diff the new config against the running one and
/// touch only the protocols that changed.
/// </summary>
internal sealed partial class RoutingDaemon : IHostedService, IAsyncDisposable, Metrics.IMetricsSource
{
    private readonly CommandLine _cl;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly Channel<ReloadRequest> _reloads = Channel.CreateBounded<ReloadRequest>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly SemaphoreSlim _configLock = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Dictionary<string, RunningProtocol> _protocols = new(StringComparer.Ordinal);
    private Task _reloadLoop = Task.CompletedTask;
    private int _stopStarted;
    private bool _controlBound;
    private BgpListener? _listener;
    /// <summary>One registry for all BGP sessions, so peers sharing an export policy share encoded UPDATEs.</summary>
    private readonly Speaker.Export.UpdateGroupRegistry _updateGroups = new();
    /// <summary>One timer for all BGP sessions' deadlines, rather than one per session.</summary>
    private readonly Speaker.Session.DeadlineScheduler _sessionTimers;
    private readonly MemoryReturner _memory;
    private ListenBgpConfig? _listenConfig;

    private readonly Logging.ProtocolCategoryLoggers? _categoryLoggers;

    public RoutingDaemon(CommandLine cl, ILoggerFactory loggers, TimeProvider time, IHostApplicationLifetime lifetime, Logging.ProtocolDebugSwitch debug,
        Logging.ProtocolCategoryLoggers? categoryLoggers = null)
    {
        _cl = cl;
        _debug = debug;
        _categoryLoggers = categoryLoggers;
        _loggers = loggers;
        _log = loggers.CreateLogger("daemon");
        _time = time;
        _sessionTimers = new Speaker.Session.DeadlineScheduler(time);
        _lifetime = lifetime;
        Table = new RoutingTable("master");
        _memory = new MemoryReturner(time, _log);
        Table.BulkRemoved += _memory.Removed;
        StartedAt = time.GetUtcNow();
        LastReconfigured = StartedAt;
    }

    public RoutingTable Table { get; }
    /// <summary>The running configuration; each one applied counts a generation (for metrics).</summary>
    public BirdConfig? Config
    {
        get => _config;
        private set
        {
            _config = value;
            Interlocked.Increment(ref _configGeneration);
        }
    }

    private BirdConfig? _config;
    private long _configGeneration;
    public DateTimeOffset StartedAt { get; }
    public DateTimeOffset LastReconfigured { get; private set; }
    public int ExitCode { get; private set; }
    public CommandLine CommandLine => _cl;

    /// <summary>Protocols in config order.</summary>
    public IReadOnlyList<Protocol> Protocols
    {
        get
        {
            lock (_protocols)
                return [.. _protocols.Values.OrderBy(p => p.Order).Select(p => p.Instance)];
        }
    }

    public uint RouterId => Config?.RouterId ?? 0;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        ReturnHostMemory();
        BirdConfig config;
        try
        {
            config = ConfigLoader.Load(_cl.ConfigFile, _cl.ConfigOptions);
        }
        catch (ConfigException e)
        {
            ExitCode = 1;
            throw new DaemonStartException(e.Message, e);
        }
        catch (IOException e)
        {
            ExitCode = 1;
            throw new DaemonStartException($"{_cl.ConfigFile}: {e.Message}", e);
        }
        // The control socket path is claimed before anything else (a second daemon on the same socket
        // must fail before it binds port 179 or touches the kernel) and served once the protocols
        // exist but before any starts, so the first `show protocols` lists them.
        BindControlSocket();
        _controlBound = true;
        WritePidFile();
        try
        {
            await ApplyAsync(config, cancellationToken, beforeStart: StartControlSocket).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // SIGTERM while the protocols were starting: the host abandons the start and never calls
            // StopAsync, so the stop runs here — protocols stopped (persist honoured), the socket and
            // the pid file removed — before the cancellation reaches the host.
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        BeginGracefulRecovery();
        _log.LogInformation("Started ({Family}, router id {RouterId}, {Count} protocols)", _cl.DualStack ? "IPv4 and IPv6" : _cl.Ipv6 ? "IPv6" : "IPv4", FormatRouterId(RouterId), _protocols.Count);
        _reloadLoop = ReloadLoopAsync(_stopping.Token);
        ReturnStartupMemory();
        _memory.WatchForQuiet(settleStartUp: true);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopStarted, 1) != 0)
            return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        await StopControlSocketAsync().ConfigureAwait(false);
        List<RunningProtocol> running;
        lock (_protocols)
            running = [.. _protocols.Values];
        await Task.WhenAll(running.Select(p => StopProtocolAsync(p, cancellationToken))).ConfigureAwait(false);
        if (_listener is not null)
            await _listener.DisposeAsync().ConfigureAwait(false);
        try
        {
            await _reloadLoop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
        DeletePidFile();
        _log.LogInformation("Shutdown completed");
    }

    public async ValueTask DisposeAsync()
    {
        // A start the host abandoned after we returned (a later hosted service saw the stop) never
        // gets StopAsync; the stop still has to run once so the socket and pid file do not outlive us.
        if (_controlBound && Volatile.Read(ref _stopStarted) == 0)
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _stopping.Dispose();
        _configLock.Dispose();
        _sessionTimers.Dispose();
        Table.BulkRemoved -= _memory.Removed;
        _memory.Dispose();
        if (_listener is not null)
            await _listener.DisposeAsync().ConfigureAwait(false);
    }

    internal static string FormatRouterId(uint id) => IpAddr.FromV4(id).ToString();

    private void WritePidFile()
    {
        if (_cl.PidFile is { } path)
            File.WriteAllText(path, $"{Environment.ProcessId}\n");
    }

    private void DeletePidFile()
    {
        if (_cl.PidFile is { } path && File.Exists(path))
            File.Delete(path);
    }

    /// <summary>A protocol instance with the config it was built from.</summary>
    private sealed record RunningProtocol(ProtocolConfig Config, Protocol Instance, int Order);
}
