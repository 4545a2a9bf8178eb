using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Daemon.Control;

/// <summary>
/// One client of the control socket: banner, then request lines answered strictly in order.
/// Output is bounded: a reply is sent in chunks of at most <see cref="ReplyWriter.FlushThreshold"/>
/// bytes, each of which must be taken by the client within the write timeout or the client is
/// dropped; echoed log lines wait in a bounded queue and are counted as lost beyond it.
/// </summary>
internal sealed class ControlSession : IDisposable
{
    /// <summary>
    /// BIRD reads requests into a 1024-byte buffer and drops the connection, without a reply, when
    /// a line does not fit (<c>bird1.6-command-1100-bytes-connection-dropped.txt</c>).
    /// </summary>
    public const int MaxRequestBytes = 1024;

    private readonly Socket _socket;
    private readonly IControlBackend _backend;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _writeTimeout;
    private readonly SessionState _state = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Channel<string> _echo;
    private readonly CancellationTokenSource _aborted = new();
    private long _echoLost;

    public ControlSession(Socket socket, IControlBackend backend, TimeProvider time, ILogger logger, int echoQueueLimit, TimeSpan writeTimeout)
    {
        _socket = socket;
        _backend = backend;
        _time = time;
        _logger = logger;
        _writeTimeout = writeTimeout;
        _echo = Channel.CreateBounded<string>(new BoundedChannelOptions(echoQueueLimit) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    }

    public void Echo(EchoClasses logClass, string message)
    {
        if ((_state.Echo & logClass) == 0)
            return;
        if (!_echo.Writer.TryWrite(message))
            Interlocked.Increment(ref _echoLost);
    }

    public void Abort()
    {
        try
        {
            _aborted.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public async Task RunAsync(CancellationToken stopping)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, _aborted.Token);
        var ct = linked.Token;
        var echoPump = PumpEchoAsync(ct);
        try
        {
            var reply = new ReplyWriter();
            reply.Final(1, $"BIRD {_backend.Version} ready.");
            await SendAsync(reply, ct).ConfigureAwait(false);
            await ReadRequestsAsync(reply, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested && !_aborted.IsCancellationRequested)
        {
            _logger.LogInformation("Control client dropped: it did not read its reply within {Timeout}", _writeTimeout);
        }
        catch (OperationCanceledException)
        {
        }
        catch (SocketException e)
        {
            _logger.LogDebug(e, "Control client connection lost");
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            _echo.Writer.TryComplete();
            await linked.CancelAsync().ConfigureAwait(false);
            try
            {
                await echoPump.ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }
    }

    private async Task ReadRequestsAsync(ReplyWriter reply, CancellationToken ct)
    {
        var buffer = new byte[4096];
        var line = new byte[MaxRequestBytes];
        var length = 0;
        while (true)
        {
            var n = await _socket.ReceiveAsync(buffer, SocketFlags.None, ct).ConfigureAwait(false);
            if (n == 0)
                return; // Every request read so far has been answered in full.
            for (var i = 0; i < n; i++)
            {
                var b = buffer[i];
                if (b == '\r')
                    continue;
                if (b != '\n')
                {
                    if (length >= MaxRequestBytes - 1)
                    {
                        _logger.LogDebug("Control client sent a request longer than {Max} bytes; dropping it", MaxRequestBytes);
                        return;
                    }
                    line[length++] = b;
                    continue;
                }
                var request = Encoding.UTF8.GetString(line, 0, length);
                length = 0;
                if (!await ExecuteAsync(request, reply, ct).ConfigureAwait(false))
                    return;
            }
        }
    }

    /// <summary>Runs one request under the write lock (no echo line can split a reply); false ends the session.</summary>
    private async Task<bool> ExecuteAsync(string request, ReplyWriter reply, CancellationToken ct)
    {
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var ctx = new CommandContext(_backend, reply, _state, _time, () => new ValueTask(SendAsync(reply, ct)), ct);
            await CommandDispatcher.ExecuteAsync(request, ctx).ConfigureAwait(false);
            await SendAsync(reply, ct).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
        if (_state.ShutdownRequested)
        {
            _state.ShutdownRequested = false;
            _backend.Shutdown();
        }
        return !_state.CloseAfterReply;
    }

    private async Task PumpEchoAsync(CancellationToken ct)
    {
        var writer = new ReplyWriter();
        await foreach (var message in _echo.Reader.ReadAllAsync(ct).ConfigureAwait(false))
        {
            await _writeLock.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                var lost = Interlocked.Exchange(ref _echoLost, 0);
                if (lost > 0)
                    writer.Async($"<{lost} messages lost>");
                writer.Async(message);
                while (writer.BufferedBytes < ReplyWriter.FlushThreshold && _echo.Reader.TryRead(out var more))
                    writer.Async(more);
                await SendAsync(writer, ct).ConfigureAwait(false);
            }
            finally
            {
                _writeLock.Release();
            }
        }
    }

    /// <summary>Sends what <paramref name="reply"/> holds; a client that takes longer than the write timeout is dropped.</summary>
    private async Task SendAsync(ReplyWriter reply, CancellationToken ct)
    {
        var data = reply.Buffered;
        if (data.IsEmpty)
            return;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_writeTimeout);
        while (!data.IsEmpty)
        {
            var sent = await _socket.SendAsync(data, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            data = data[sent..];
        }
        reply.Clear();
    }

    public void Dispose()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        _socket.Dispose();
        _aborted.Dispose();
        _writeLock.Dispose();
    }
}
