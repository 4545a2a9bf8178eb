using System.Net.Sockets;
using System.Text;
using Calico.Bgp.Daemon.Control;
using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging.Abstractions;

namespace Calico.Bgp.Daemon.Tests.Control;

/// <summary>The socket: framing on the wire, ordering, limits, stale sockets, slow clients.</summary>
public class ControlServerTests
{
    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task Serves_banner_and_show_protocols_exactly_as_bird()
    {
        await using var f = ServerFixture.Start();
        using var s = f.Connect();
        s.Send(Bytes("show protocols\n"));
        var text = ServerFixture.ReadReplies(s, 2);
        Assert.Equal(File.ReadAllText(Path.Combine(Transcript.Directory, "bird1.6-show-protocols.txt")), text);
    }

    [Fact]
    public async Task Pipelined_commands_are_answered_in_order()
    {
        await using var f = ServerFixture.Start();
        using var s = f.Connect();
        s.Send(Bytes("show route count\nshow protocols Mesh_10_99_0_1\nshow route count\n"));
        var text = ServerFixture.ReadReplies(s, 4);
        Assert.Equal(File.ReadAllText(Path.Combine(Transcript.Directory, "bird1.6-session-pipelined-socat.txt")), text);
    }

    [Fact]
    public async Task Carriage_returns_are_ignored()
    {
        await using var f = ServerFixture.Start();
        using var s = f.Connect();
        s.Send(Bytes("show route count\r\n"));
        Assert.EndsWith("0014 9 of 9 routes for 9 networks\n", ServerFixture.ReadReplies(s, 2), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_of_1024_bytes_or_more_drops_the_connection_without_reply()
    {
        await using var f = ServerFixture.Start();
        using var s = f.Connect();
        s.Send(Bytes("show route for " + new string('x', 1100) + "\n"));
        var text = ServerFixture.ReadReplies(s, 2);
        Assert.Equal("0001 BIRD 1.6.8 ready.\n", text);
    }

    [Fact]
    public async Task Long_symbol_under_the_line_limit_is_symbol_too_long()
    {
        await using var f = ServerFixture.Start();
        using var s = f.Connect();
        s.Send(Bytes("show route for " + new string('x', 900) + "\n"));
        Assert.Equal("0001 BIRD 1.6.8 ready.\n9001 Symbol too long\n", ServerFixture.ReadReplies(s, 2));
    }

    [Fact]
    public async Task Half_closed_client_still_gets_its_reply()
    {
        await using var f = ServerFixture.Start();
        using var s = f.Connect();
        s.Send(Bytes("show status\n"));
        s.Shutdown(SocketShutdown.Send);
        var text = ServerFixture.ReadReplies(s, 3);
        Assert.EndsWith("0013 Daemon is up and running\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Socket_file_has_birds_mode_and_is_removed_on_dispose()
    {
        var f = ServerFixture.Start();
        var path = f.SocketPath;
        Assert.True(OperatingSystem.IsLinux());
        if (OperatingSystem.IsLinux())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, File.GetUnixFileMode(path));
        await f.DisposeAsync();
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task Stale_socket_file_is_replaced()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ctl-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "bird.ctl");
        // A socket bound by a process that exited without unlinking it: what a killed daemon leaves
        // behind (.NET itself unlinks on dispose, so another process makes it).
        using (var python = System.Diagnostics.Process.Start("python3", ["-c", $"import socket; socket.socket(socket.AF_UNIX).bind('{path}')"]))
            await python.WaitForExitAsync();
        Assert.True(File.Exists(path));
        var backend = NodeATopology.Build(out var time);
        await using var server = new ControlServer(path, backend, NullLogger.Instance, time);
        server.Start();
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Connect(new UnixDomainSocketEndPoint(path));
        Assert.StartsWith("0001 BIRD", ServerFixture.ReadReplies(s, 1), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refuses_to_start_when_a_live_daemon_answers_on_the_path()
    {
        await using var f = ServerFixture.Start();
        await using var second = new ControlServer(f.SocketPath, f.Backend, NullLogger.Instance, f.Time);
        var e = Assert.Throws<InvalidOperationException>(second.Start);
        Assert.Contains("already running", e.Message, StringComparison.Ordinal);
        Assert.Contains(f.SocketPath, e.Message, StringComparison.Ordinal);
        // The first server is untouched.
        using var s = f.Connect();
        Assert.StartsWith("0001 BIRD", ServerFixture.ReadReplies(s, 1), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Many_clients_are_served_at_once()
    {
        await using var f = ServerFixture.Start();
        var tasks = Enumerable.Range(0, 32).Select(async _ =>
        {
            using var s = f.Connect();
            await s.SendAsync(Bytes("show status\nshow protocols\n"));
            return await ServerFixture.ReadRepliesAsync(s, 3);
        }).ToArray();
        var replies = await Task.WhenAll(tasks);
        Assert.All(replies, r => Assert.EndsWith("0000 \n", r, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_client_that_does_not_read_is_dropped_and_others_are_served()
    {
        await using var f = ServerFixture.Start(TimeSpan.FromMilliseconds(300));
        var mesh = f.Backend.ProtocolList.Single(p => p.Name == "Mesh_10_99_0_1");
        var attrs = f.Backend.Table.Attributes.Intern(new PathAttributes { Source = RouteSource.Static, Dest = RouteDest.Blackhole });
        for (var i = 0; i < 60000; i++)
            f.Backend.Table.Update(Route.Create(new Prefix(IpAddr.FromV4(0x0B000000u + ((uint)i << 8)), 24), attrs, mesh));
        var stuck = f.Connect();
        stuck.ReceiveBufferSize = 4096;
        stuck.Send(Bytes("show route all\n"));
        // It never reads; the server gives up on it after the write timeout. First see its session
        // counted (the accept may come after Send returns), then gone.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (f.Server.SessionCount == 0 && DateTime.UtcNow < deadline)
            await Task.Delay(5);
        Assert.Equal(1, f.Server.SessionCount);
        while (f.Server.SessionCount > 0 && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        Assert.Equal(0, f.Server.SessionCount);
        stuck.Dispose();
        using var s = f.Connect();
        s.Send(Bytes("show status\n"));
        Assert.EndsWith("0013 Daemon is up and running\n", ServerFixture.ReadReplies(s, 2), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Echo_sends_log_lines_between_replies()
    {
        await using var f = ServerFixture.Start();
        using var s = f.Connect();
        s.Send(Bytes("echo all\n"));
        Assert.Equal("0001 BIRD 1.6.8 ready.\n0000 \n", ServerFixture.ReadReplies(s, 2));
        f.Server.Echo(EchoClasses.Info, "Node_10_99_0_50: Connect delayed by 2 seconds");
        var buffer = new byte[4096];
        var n = s.Receive(buffer);
        Assert.Equal("+Node_10_99_0_50: Connect delayed by 2 seconds\n", Encoding.UTF8.GetString(buffer, 0, n));
    }

    [Fact]
    public async Task Down_replies_then_closes_and_asks_the_daemon_to_stop()
    {
        await using var f = ServerFixture.Start();
        using var s = f.Connect();
        s.Send(Bytes("down\n"));
        var text = ServerFixture.ReadReplies(s, 3);
        Assert.Equal(File.ReadAllText(Path.Combine(Transcript.Directory, "bird1.6-down.txt")), text);
        Assert.Equal(1, f.Backend.ShutdownCalls);
    }
}
