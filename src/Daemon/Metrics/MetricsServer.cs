using System.Net;
using System.Text;
using Calico.Bgp.Daemon.Health;
using Calico.Bgp.Daemon.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Metrics;

/// <summary>
/// The <c>--metrics ADDR:PORT</c> listener: <c>/metrics</c> (Prometheus text format),
/// <c>/livez</c> and <c>/readyz</c> (200 or 503 with the reason as plain text). The project is a
/// plain console host without ASP.NET, so this is an <see cref="HttpListener"/>: small, and enough
/// for a scraper and kubelet probes.
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
    private readonly HttpListener _listener = new();
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
        if (!MetricsEndpoint.TryParse(_endpoint, out var prefix, out var port))
            throw new DaemonStartException($"--metrics {_endpoint}: expected ADDRESS:PORT");
        Port = port;
        _listener.Prefixes.Add(prefix);
        try
        {
            _listener.Start();
        }
        catch (HttpListenerException e)
        {
            throw new DaemonStartException($"Cannot serve metrics on {_endpoint}: {e.Message}", e);
        }
        _heartbeat = _liveness.Register("metrics timer", _options.HeartbeatPeriod * 10);
        _tickLoop = TickAsync(_heartbeat, _stopping.Token);
        _acceptLoop = AcceptAsync(_stopping.Token);
        _log.LogInformation("Serving /metrics, /livez and /readyz on {Endpoint}", _endpoint);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_listener.IsListening)
            _listener.Stop();
        if (_heartbeat is not null)
            _liveness.Unregister(_heartbeat);
        await Task.WhenAll(_acceptLoop, _tickLoop).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested)
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _listener.Close();
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
        while (!cancellationToken.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                // The listener was stopped.
                return;
            }
            _ = Task.Run(() => ServeAsync(context, cancellationToken), CancellationToken.None);
        }
    }

    private async Task ServeAsync(HttpListenerContext context, CancellationToken cancellationToken)
    {
        var response = context.Response;
        try
        {
            var request = context.Request;
            var path = request.Url?.AbsolutePath ?? "/";
            if (request.HttpMethod is not ("GET" or "HEAD"))
                await WriteTextAsync(response, 405, "method not allowed\n").ConfigureAwait(false);
            else if (path == "/metrics")
            {
                response.StatusCode = 200;
                response.ContentType = TextFormat;
                await _metrics.WriteAsync(response.OutputStream, cancellationToken).ConfigureAwait(false);
            }
            else if (path == "/livez")
            {
                var verdict = await _liveness.CheckAsync(ReadState, _options.LivenessDeadline).ConfigureAwait(false);
                await WriteVerdictAsync(response, verdict).ConfigureAwait(false);
            }
            else if (path == "/readyz")
            {
                var window = ThresholdOverride(request.QueryString["threshold-time"]) ?? _options.StartupWindow;
                await WriteVerdictAsync(response, _readiness.Evaluate(window)).ConfigureAwait(false);
            }
            else
                await WriteTextAsync(response, 404, "not found: try /metrics, /livez or /readyz\n").ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The client went away or we are stopping.
        }
        catch (Exception e)
        {
            // A scrape must never take the daemon down; say what broke and answer 500.
            _log.LogError(e, "Serving {Url} failed", context.Request.Url);
            try
            {
                await WriteTextAsync(response, 500, "internal error\n").ConfigureAwait(false);
            }
            catch (Exception inner) when (inner is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
            {
                // Headers were already sent.
            }
        }
        finally
        {
            try
            {
                response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
            {
                // Closed by the peer.
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

    private static Task WriteVerdictAsync(HttpListenerResponse response, HealthVerdict verdict) =>
        WriteTextAsync(response, verdict.Healthy ? 200 : 503, (verdict.Healthy ? "ok: " : "fail: ") + verdict.Reason + "\n");

    private static async Task WriteTextAsync(HttpListenerResponse response, int status, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
    }
}
