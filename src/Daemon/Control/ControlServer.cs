using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Control;

/// <summary>
/// BIRD's control socket: a Unix stream socket speaking BIRD 1.6's CLI protocol to any number of
/// clients (calico-node's probes, calicoctl, birdc/birdcl, calico-bgpc). Each client is served by
/// its own task; replies are built from snapshots, so no client can block the daemon.
/// </summary>
public sealed class ControlServer : IAsyncDisposable
{
    private readonly string _path;
    private readonly IControlBackend _backend;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _sessionsLock = new();
    private readonly HashSet<ControlSession> _sessions = [];
    private Socket? _listener;
    private Task _acceptLoop = Task.CompletedTask;
    private bool _accepting;

    public ControlServer(string socketPath, IControlBackend backend, ILogger logger, TimeProvider? time = null)
    {
        _path = Path.GetFullPath(socketPath);
        _backend = backend;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    public string SocketPath => _path;

    /// <summary>Bound on a client's queued <c>echo</c> lines; beyond it lines are counted as lost, as BIRD does.</summary>
    public int EchoQueueLimit { get; init; } = 1024;

    /// <summary>How long one write may wait for a client that does not read before it is dropped.</summary>
    public TimeSpan WriteTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Clients connected now.</summary>
    public int SessionCount
    {
        get
        {
            lock (_sessionsLock)
                return _sessions.Count;
        }
    }

    /// <summary>
    /// Binds the socket (mode 0660 as BIRD's) and starts accepting. A socket file left by a dead
    /// daemon is replaced; if a daemon answers on the path, this throws and leaves it alone.
    /// </summary>
    public void Start()
    {
        if (_listener is null)
            Bind();
        if (_accepting)
            throw new InvalidOperationException("The control server is already started.");
        _accepting = true;
        _acceptLoop = Task.Run(AcceptLoopAsync);
        _logger.LogInformation("Control socket listening on {Path}", _path);
    }

    /// <summary>
    /// Claims the socket path without serving yet: clients that connect wait in the backlog until
    /// <see cref="Start"/>. The daemon binds first, so a second daemon on the same path fails before
    /// it touches anything else, and serves once its protocols exist.
    /// </summary>
    public void Bind()
    {
        if (_listener is not null)
            throw new InvalidOperationException("The control server is already bound.");
        RemoveStaleSocket();
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(_path));
            // BIRD chmods its socket 0660: root and the daemon's group may talk to it.
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(_path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
            listener.Listen(64);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        _listener = listener;
    }

    /// <summary>
    /// Sends a log message to every client that asked for its class with <c>echo</c> (as a
    /// <c>+message</c> line between replies). Never blocks: a full client queue counts it as lost.
    /// </summary>
    public void Echo(EchoClasses logClass, string message)
    {
        ControlSession[] sessions;
        lock (_sessionsLock)
            sessions = [.. _sessions];
        foreach (var s in sessions)
            s.Echo(logClass, message);
    }

    private void RemoveStaleSocket()
    {
        if (!File.Exists(_path) && !Directory.Exists(_path))
            return;
        if (Directory.Exists(_path))
            throw new InvalidOperationException($"Control socket path {_path} is a directory.");
        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(_path));
                throw new InvalidOperationException(
                    $"Another daemon is already running: it answers on control socket {_path}. Stop it first, or use -s to pick another socket.");
            }
            catch (SocketException)
            {
                // Nobody listens: the file is left over from a daemon that died.
            }
        }
        _logger.LogInformation("Removing stale control socket {Path}", _path);
        File.Delete(_path);
    }

    private async Task AcceptLoopAsync()
    {
        var listener = _listener!;
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                _logger.LogWarning(e, "Control socket accept failed");
                continue;
            }
            var session = new ControlSession(client, _backend, _time, _logger, EchoQueueLimit, WriteTimeout);
            lock (_sessionsLock)
                _sessions.Add(session);
            _ = RunSessionAsync(session);
        }
    }

    private async Task RunSessionAsync(ControlSession session)
    {
        try
        {
            await session.RunAsync(_stopping.Token).ConfigureAwait(false);
        }
        finally
        {
            lock (_sessionsLock)
                _sessions.Remove(session);
            session.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
            return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener?.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        ControlSession[] sessions;
        lock (_sessionsLock)
            sessions = [.. _sessions];
        foreach (var s in sessions)
            s.Abort();
        if (_listener is not null)
        {
            try
            {
                File.Delete(_path);
            }
            catch (IOException e)
            {
                _logger.LogWarning(e, "Could not remove control socket {Path}", _path);
            }
        }
        _stopping.Dispose();
    }
}
