using Calico.Bgp.Cli;

namespace Calico.Bgp.Daemon.Tests.Cli;

public class CommandTableTests
{
    [Theory]
    [InlineData("sh pro", "show protocols")]
    [InlineData("s p a Mesh_10_99_0_1", "show protocols all Mesh_10_99_0_1")]
    [InlineData("s r", "show route")]
    [InlineData("sh ro for 10.65.1.7", "show route for 10.65.1.7")]
    [InlineData("show route all", "show route all")]
    [InlineData("conf ch", "configure check")]
    [InlineData("configure \"/x.cfg\"", "configure \"/x.cfg\"")]
    [InlineData("dis Mesh_10_99_0_1", "disable Mesh_10_99_0_1")]
    [InlineData("sh st", "show status")]
    [InlineData("sh i s", "show interfaces summary")]
    [InlineData("rel in Mesh_10_99_0_1", "reload in Mesh_10_99_0_1")]
    public void Abbreviations_expand_as_birdc_does(string typed, string sent)
    {
        Assert.Equal(sent, CommandTable.Expand(typed).Command);
    }

    [Fact]
    public void Ambiguous_word_lists_the_candidates()
    {
        var e = CommandTable.Expand("re Mesh_10_99_0_1");
        Assert.Null(e.Command);
        Assert.Equal("Ambiguous command, possible expansions are:", e.Messages[0]);
        Assert.Contains(e.Messages, m => m.StartsWith("restart ", StringComparison.Ordinal));
        Assert.Contains(e.Messages, m => m.StartsWith("reload ", StringComparison.Ordinal));
        Assert.Contains(e.Messages, m => m.StartsWith("restrict", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("show nonsense")]
    [InlineData("show")]
    [InlineData("frobnicate")]
    public void Unknown_commands_are_rejected_client_side(string typed)
    {
        var e = CommandTable.Expand(typed);
        Assert.Null(e.Command);
        Assert.Equal(["No such command. Press `?' for help."], e.Messages);
    }

    [Fact]
    public void Help_lists_commands_under_a_prefix()
    {
        var help = CommandTable.Help("sh pro");
        Assert.Equal(2, help.Count);
        Assert.StartsWith("show protocols [<protocol> | \"<pattern>\"]", help[0], StringComparison.Ordinal);
        Assert.EndsWith("  Show routing protocols", help[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("birdcl", "/var/run/calico/bird.ctl")]
    [InlineData("/bin/birdcl6", "/var/run/calico/bird6.ctl")]
    [InlineData("calico-bgpc", "/var/run/calico/bird.ctl")]
    public void Default_socket_follows_the_invoked_name(string argv0, string socket)
    {
        Assert.Equal(socket, ClientOptions.Parse(["show", "status"], argv0, TextWriter.Null)!.SocketPath);
    }

    [Fact]
    public void Options_are_parsed_as_birdc_does()
    {
        var o = ClientOptions.Parse(["-s", "/tmp/x.ctl", "-r", "-v", "show", "route", "for", "10.0.0.1"], "birdc", TextWriter.Null)!;
        Assert.Equal(new ClientOptions("/tmp/x.ctl", true, true, "show route for 10.0.0.1"), o);
        Assert.Null(ClientOptions.Parse(["-x"], "birdc", TextWriter.Null));
    }
}
