using Calico.Bgp.Cli;
using Calico.Bgp.Daemon.Tests.Control;

namespace Calico.Bgp.Daemon.Tests.Cli;

/// <summary>calico-bgpc against a real control server: output as birdc prints it, exit codes.</summary>
public class ClientAgainstServerTests
{
    private static (int Code, string Out, string Err) Run(string[] args, string input = "")
    {
        var output = new StringWriter { NewLine = "\n" };
        var error = new StringWriter { NewLine = "\n" };
        var code = BirdClient.Run(args, "calico-bgpc", new StringReader(input), output, error, interactiveConsole: false);
        return (code, output.ToString(), error.ToString());
    }

    private static string Pretty(string file) => File.ReadAllText(Path.Combine(Transcript.Directory, "pretty", file));

    [Fact]
    public async Task Prints_show_protocols_as_birdc()
    {
        await using var f = ServerFixture.Start();
        var (code, output, _) = await Task.Run(() => Run(["-s", f.SocketPath, "sh", "pro"]));
        Assert.Equal(0, code);
        Assert.Equal(Pretty("bird1.6-birdc-show-protocols.txt"), output);
    }

    [Fact]
    public async Task Verbose_prints_raw_codes_as_birdc()
    {
        await using var f = ServerFixture.Start();
        f.Backend.ProtocolList.Single(p => p.Name == "kernel1").Detail = f.Backend.ProtocolList.Single(p => p.Name == "kernel1").Detail with { StateWord = "wait" };
        var (_, output, _) = await Task.Run(() => Run(["-s", f.SocketPath, "-v", "show", "protocols"]));
        Assert.Equal(Pretty("bird1.6-birdc-verbose-show-protocols.txt"), output);
    }

    [Fact]
    public async Task Show_route_all_prints_as_birdc()
    {
        await using var f = ServerFixture.Start();
        var (_, output, _) = await Task.Run(() => Run(["-s", f.SocketPath, "show", "route", "all"]));
        static string[] Groups(string text) =>
            [.. text.Split("\n").Skip(1).Aggregate(new List<string>(), (g, l) => { if (l.StartsWith('\t') && g.Count > 0) g[^1] += l; else g.Add(l); return g; }).Order(StringComparer.Ordinal)];
        Assert.Equal(Groups(Pretty("bird1.6-birdc-show-route-all.txt")), Groups(output));
    }

    [Fact]
    public async Task Error_reply_and_restricted_configure_exit_1()
    {
        await using var f = ServerFixture.Start();
        var (code, output, _) = await Task.Run(() => Run(["-s", f.SocketPath, "-r", "configure"]));
        Assert.Equal(1, code);
        Assert.Equal(Pretty("bird1.6-birdc-restricted-configure.txt"), output);
        (code, output, _) = await Task.Run(() => Run(["-s", f.SocketPath, "show", "route", "for", "192.0.2.1"]));
        Assert.Equal(1, code);
        Assert.Equal(Pretty("bird1.6-birdc-show-route-not-in-table.txt"), output);
    }

    [Fact]
    public async Task Unknown_command_is_rejected_without_the_server()
    {
        await using var f = ServerFixture.Start();
        var (code, output, _) = await Task.Run(() => Run(["-s", f.SocketPath, "show", "nonsense"]));
        Assert.Equal(1, code);
        Assert.Equal(Pretty("bird1.6-birdc-syntax-error.txt"), output);
    }

    [Fact]
    public void Unreachable_socket_is_reported_as_birdc_does()
    {
        var (code, _, error) = Run(["-s", "/nonexistent/bird.ctl", "show", "status"]);
        Assert.Equal(1, code);
        Assert.Equal("Unable to connect to server control socket (/nonexistent/bird.ctl): No such file or directory\n", error);
    }

    [Fact]
    public async Task Interactive_session_reads_commands_until_quit()
    {
        await using var f = ServerFixture.Start();
        var (code, output, _) = await Task.Run(() => Run(["-s", f.SocketPath], "show route count\nsh nonsense\nquit\n"));
        Assert.Equal(1, code);
        Assert.Equal("BIRD 1.6.8 ready.\nbird> 9 of 9 routes for 9 networks\nbird> No such command. Press `?' for help.\nbird> ", output);
    }
}
