using System.Net;
using System.Net.Sockets;
using System.Text;
using Calico.Bgp.Daemon.Health;
using Calico.Bgp.Daemon.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Metrics;

/// <summary>
/// The <c>--metrics ADDR:PORT</c> listener: <c>/metrics</c> (Prometheus text format),
/// <c>/livez</c> and <c>/readyz</c> (200 or 503 with the reason as plain text), over a plain socket
/// bound exactly where configured (see <see cref="HttpExchange"/>).
/// </summary>
public sealed class MetricsServer : IHostedService, IAsyncDisposable
{
    private const string TextFormat = "text/plain; version=0.0.4; charset=utf-8";

    private readonly string _endpoint;
    private readonly DaemonMetrics _metrics;
    private readonly IMetricsSource _source;
    private readonly LivenessMonitor _liveness;
    private readonly ReadinessCheck _readiness;
    private readonly HealthOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private Socket? _listener;
    private readonly CancellationTokenSource _stopping = new();
    private Heartbeat? _heartbeat;
    private Task _acceptLoop = Task.CompletedTask;
    private Task _tickLoop = Task.CompletedTask;

    public MetricsServer(string endpoint, DaemonMetrics metrics, IMetricsSource source, LivenessMonitor liveness, HealthOptions options, TimeProvider time, ILoggerFactory loggers)
    {
        _endpoint = endpoint;
        _metrics = metrics;
        _source = source;
        _liveness = liveness;
        _readiness = new ReadinessCheck(source, time);
        _options = options;
        _time = time;
        _log = loggers.CreateLogger("metrics");
    }

    /// <summary>The port listened on (useful with tests that pick one).</summary>
    public int Port { get; private set; }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!MetricsEndpoint.TryParse(_endpoint, out var endpoint))
            throw new DaemonStartException($"--metrics {_endpoint}: expected ADDRESS:PORT");
        var listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endpoint.Address.Equals(IPAddress.IPv6Any))
                listener.DualMode = true;
            listener.Bind(endpoint);
            listener.Listen(64);
        }
        catch (SocketException e)
        {
            listener.Dispose();
            throw new DaemonStartException($"Cannot serve metrics on {_endpoint}: {e.Message}", e);
        }
        _listener = listener;
        Port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        _heartbeat = _liveness.Register("metrics timer", _options.HeartbeatPeriod * 10);
        _tickLoop = TickAsync(_heartbeat, _stopping.Token);
        _acceptLoop = AcceptAsync(_stopping.Token);
        _log.LogInformation("Serving /metrics, /livez and /readyz on {Endpoint}", _endpoint);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener?.Dispose();
        if (_heartbeat is not null)
            _liveness.Unregister(_heartbeat);
        await Task.WhenAll(_acceptLoop, _tickLoop).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested)
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _listener?.Dispose();
        _stopping.Dispose();
    }

    /// <summary>A heartbeat of our own: it stops when timers or the thread pool stop running.</summary>
    private async Task TickAsync(Heartbeat heartbeat, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                heartbeat.Beat();
                await Task.Delay(_options.HeartbeatPeriod, _time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private async Task AcceptAsync(CancellationToken cancellationToken)
    {
        var listener = _listener!;
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                // The listener was stopped.
                return;
            }
            _ = Task.Run(() => ServeAsync(client, cancellationToken), CancellationToken.None);
        }
    }

    /// <summary>A request must arrive and be answered within this time, so a stuck client costs one socket briefly.</summary>
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private async Task ServeAsync(Socket client, CancellationToken stopping)
    {
        using var _ = client;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(RequestTimeout);
        var cancellationToken = timeout.Token;
        HttpExchange? exchange = null;
        try
        {
            exchange = await HttpExchange.ReadAsync(client, cancellationToken).ConfigureAwait(false);
            if (exchange is null)
            {
                await HttpExchange.RespondBadRequestAsync(client, cancellationToken).ConfigureAwait(false);
                return;
            }
            if (exchange.Method is not ("GET" or "HEAD"))
                await WriteTextAsync(exchange, 405, "method not allowed\n", cancellationToken).ConfigureAwait(false);
            else if (exchange.Path == "/metrics")
            {
                using var body = new MemoryStream();
                await _metrics.WriteAsync(body, cancellationToken).ConfigureAwait(false);
                await exchange.RespondAsync(200, TextFormat, body.GetBuffer().AsMemory(0, (int)body.Length), cancellationToken).ConfigureAwait(false);
            }
            else if (exchange.Path == "/livez")
            {
                var verdict = await _liveness.CheckAsync(ReadState, _options.LivenessDeadline).ConfigureAwait(false);
                await WriteVerdictAsync(exchange, verdict, cancellationToken).ConfigureAwait(false);
            }
            else if (exchange.Path == "/readyz")
            {
                var window = ThresholdOverride(exchange.QueryValue("threshold-time")) ?? _options.StartupWindow;
                await WriteVerdictAsync(exchange, _readiness.Evaluate(window), cancellationToken).ConfigureAwait(false);
            }
            else
                await WriteTextAsync(exchange, 404, "not found: try /metrics, /livez or /readyz\n", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The client went away, was too slow, or we are stopping.
        }
        catch (Exception e)
        {
            // A scrape must never take the daemon down; say what broke and answer 500.
            _log.LogError(e, "Serving {Path} failed", exchange?.Path);
            if (exchange is not null)
            {
                try
                {
                    await WriteTextAsync(exchange, 500, "internal error\n", cancellationToken).ConfigureAwait(false);
                }
                catch (Exception inner) when (inner is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
                {
                    // The client is gone.
                }
            }
        }
    }

    /// <summary>What /livez reads: the protocol list and the table, both behind the daemon's locks.</summary>
    private void ReadState()
    {
        _ = _source.Protocols.Count;
        _ = _source.Table.PrefixCount;
        _ = _source.GracefulRecovery;
    }

    private static TimeSpan? ThresholdOverride(string? text) =>
        double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var s) && s >= 0
            ? TimeSpan.FromSeconds(s)
            : null;

    private static Task WriteVerdictAsync(HttpExchange exchange, HealthVerdict verdict, CancellationToken cancellationToken) =>
        WriteTextAsync(exchange, verdict.Healthy ? 200 : 503, (verdict.Healthy ? "ok: " : "fail: ") + verdict.Reason + "\n", cancellationToken);

    private static Task WriteTextAsync(HttpExchange exchange, int status, string text, CancellationToken cancellationToken) =>
        exchange.RespondAsync(status, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(text), cancellationToken);
}
