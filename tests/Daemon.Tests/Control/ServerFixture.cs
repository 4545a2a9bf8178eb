using System.Net.Sockets;
using System.Text;
using Calico.Bgp.Daemon.Control;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Daemon.Tests.Control;

/// <summary>A real <see cref="ControlServer"/> on a socket in a fresh temp folder, serving node A's topology.</summary>
internal sealed class ServerFixture : IAsyncDisposable
{
    private ServerFixture(string dir, FakeControlBackend backend, ManualTime time, ControlServer server)
    {
        Directory = dir;
        Backend = backend;
        Time = time;
        Server = server;
    }

    public string Directory { get; }
    public FakeControlBackend Backend { get; }
    public ManualTime Time { get; }
    public ControlServer Server { get; }
    public string SocketPath => Server.SocketPath;

    public static ServerFixture Start(TimeSpan? writeTimeout = null)
    {
        var dir = Path.Combine(Path.GetTempPath(), "ctl-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(dir);
        var backend = NodeATopology.Build(out var time);
        time.Now = ManualTime.At("11:04:47");
        var server = new ControlServer(Path.Combine(dir, "bird.ctl"), backend, NullLogger.Instance, time)
        {
            WriteTimeout = writeTimeout ?? TimeSpan.FromSeconds(30),
        };
        server.Start();
        return new ServerFixture(dir, backend, time, server);
    }

    public Socket Connect()
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Connect(new UnixDomainSocketEndPoint(SocketPath));
        s.ReceiveTimeout = 10000;
        return s;
    }

    /// <summary>Reads until the connection has delivered <paramref name="finals"/> final lines (or closes).</summary>
    public static string ReadReplies(Socket s, int finals)
    {
        var text = new StringBuilder();
        var buffer = new byte[65536];
        while (CountFinals(text.ToString()) < finals)
        {
            var n = s.Receive(buffer);
            if (n == 0)
                break;
            text.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }
        return text.ToString();
    }

    /// <summary>As <see cref="ReadReplies"/>, without blocking a thread (for many clients at once).</summary>
    public static async Task<string> ReadRepliesAsync(Socket s, int finals)
    {
        var text = new StringBuilder();
        var buffer = new byte[65536];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (CountFinals(text.ToString()) < finals)
        {
            var n = await s.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            if (n == 0)
                break;
            text.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }
        return text.ToString();
    }

    private static int CountFinals(string text) =>
        text.Split('\n').Count(l => l.Length >= 5 && char.IsAsciiDigit(l[0]) && l[4] == ' ');

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
