using System.Buffers;
using System.Net.Sockets;
using System.Text;

namespace Calico.Bgp.Daemon.Metrics;

/// <summary>
/// One HTTP/1.x request and its response on a socket, enough for a Prometheus scraper and kubelet
/// probes: a request line and headers (bounded), then one response and close. Hand-written over a
/// socket because <see cref="System.Net.HttpListener"/> matches the Host header against its prefix
/// (a probe to the pod IP would get 404) and the daemon has no ASP.NET.
/// </summary>
internal sealed class HttpExchange
{
    /// <summary>Longest request head accepted; scrapers and probes send a few hundred bytes.</summary>
    public const int MaxHeadBytes = 8192;

    private readonly Socket _socket;

    private HttpExchange(Socket socket, string method, string path, string query)
    {
        _socket = socket;
        Method = method;
        Path = path;
        Query = query;
    }

    public string Method { get; }
    public string Path { get; }
    public string Query { get; }

    /// <summary>Reads the request head; null when the client sent nothing usable (it is answered 400 and closed).</summary>
    public static async Task<HttpExchange?> ReadAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(MaxHeadBytes);
        try
        {
            var length = 0;
            while (true)
            {
                var n = await socket.ReceiveAsync(buffer.AsMemory(length, MaxHeadBytes - length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                if (n == 0)
                    return null;
                length += n;
                var head = buffer.AsSpan(0, length);
                if (head.IndexOf("\r\n\r\n"u8) >= 0 || head.IndexOf("\n\n"u8) >= 0)
                    break;
                if (length == MaxHeadBytes)
                    return null;
            }
            var text = Encoding.ASCII.GetString(buffer, 0, length);
            var requestLine = text[..text.IndexOf('\n')].TrimEnd('\r');
            var parts = requestLine.Split(' ');
            if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
                return null;
            var target = parts[1];
            var q = target.IndexOf('?');
            return new HttpExchange(socket, parts[0], q < 0 ? target : target[..q], q < 0 ? "" : target[(q + 1)..]);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The value of query parameter <paramref name="name"/>, or null.</summary>
    public string? QueryValue(string name)
    {
        foreach (var pair in Query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            var key = eq < 0 ? pair : pair[..eq];
            if (key == name)
                return eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..]);
        }
        return null;
    }

    /// <summary>Sends the response (no body for HEAD) and leaves closing to the caller.</summary>
    public async Task RespondAsync(int status, string contentType, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var head = $"HTTP/1.1 {status} {Reason(status)}\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
        await _socket.SendAsync(Encoding.ASCII.GetBytes(head), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        if (Method != "HEAD" && body.Length > 0)
            await _socket.SendAsync(body, SocketFlags.None, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A 400 for a request that could not be read.</summary>
    public static Task RespondBadRequestAsync(Socket socket, CancellationToken cancellationToken) =>
        new HttpExchange(socket, "GET", "", "").RespondAsync(400, "text/plain; charset=utf-8", "bad request\n"u8.ToArray(), cancellationToken);

    private static string Reason(int status) => status switch
    {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
}
