using System.Net.Sockets;
using System.Text;

namespace Calico.Bgp.Cli;

/// <summary>
/// A connection to the control socket that prints replies as birdc/birdcl do: the text of each
/// line without its code, nothing for code-0 lines, <c>&gt;&gt;&gt; msg</c> for asynchronous lines;
/// raw lines with <c>-v</c>.
/// </summary>
internal sealed class ClientConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly StreamReader _reader;
    private readonly Stream _stream;
    private readonly TextWriter _out;
    private readonly bool _verbose;

    private ClientConnection(Socket socket, TextWriter output, bool verbose)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        _reader = new StreamReader(_stream, new UTF8Encoding(false));
        _out = output;
        _verbose = verbose;
    }

    /// <summary>Connects; on failure writes birdc's message to <paramref name="error"/> and returns null.</summary>
    public static ClientConnection? Connect(string path, TextWriter output, TextWriter error, bool verbose)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException e)
        {
            socket.Dispose();
            error.WriteLine($"Unable to connect to server control socket ({path}): {StrError(path, e)}");
            return null;
        }
        return new ClientConnection(socket, output, verbose);
    }

    /// <summary>
    /// birdc prints strerror(errno); .NET reports a missing socket file as "Cannot assign requested
    /// address", so the common cases are worded as libc words them.
    /// </summary>
    private static string StrError(string path, SocketException e)
    {
        if (!File.Exists(path))
            return "No such file or directory";
        return e.SocketErrorCode switch
        {
            SocketError.ConnectionRefused => "Connection refused",
            SocketError.AccessDenied => "Permission denied",
            _ => e.Message,
        };
    }

    /// <summary>Reads and prints one reply (up to its final line); returns its final code, or -1 when the server closed the connection.</summary>
    public int ReadReply()
    {
        while (true)
        {
            var line = _reader.ReadLine();
            if (line is null)
                return -1;
            var final = Print(line);
            if (final >= 0)
                return final;
        }
    }

    public void Send(string command)
    {
        var bytes = Encoding.UTF8.GetBytes(command + "\n");
        _stream.Write(bytes);
        _stream.Flush();
    }

    /// <summary>birdc's <c>server_got_reply</c>; returns the code of a final line, else -1.</summary>
    private int Print(string x)
    {
        if (x.StartsWith('+'))
        {
            _out.WriteLine($">>> {x[1..]}");
            return -1;
        }
        if (x.StartsWith(' '))
        {
            _out.WriteLine((_verbose ? "     " : "") + x[1..]);
            return -1;
        }
        if (x.Length > 4 && int.TryParse(x.AsSpan(0, 4), System.Globalization.NumberStyles.None, null, out var code) && x[4] is ' ' or '-')
        {
            if (code != 0)
                _out.WriteLine(_verbose ? x : x[5..]);
            return x[4] == ' ' ? code : -1;
        }
        _out.WriteLine($"??? <{x}>");
        return -1;
    }

    public void Dispose()
    {
        _reader.Dispose();
        _stream.Dispose();
        _socket.Dispose();
    }
}
