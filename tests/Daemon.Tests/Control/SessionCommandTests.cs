using Calico.Bgp.Daemon.Control;

namespace Calico.Bgp.Daemon.Tests.Control;

/// <summary>restrict, configure, debug, symbols, memory, framing details.</summary>
public class SessionCommandTests
{
    private static (FakeControlBackend, ManualTime) Node()
    {
        var b = NodeATopology.Build(out var t);
        t.Now = ManualTime.At("11:01:16");
        return (b, t);
    }

    [Fact]
    public void Restricted_session_reads_but_cannot_change_anything()
    {
        var (b, t) = Node();
        var session = new SessionState();
        var replies = string.Concat(
            new[] { "restrict", "show protocols Mesh_10_99_0_1", "configure", "disable Mesh_10_99_0_1", "down" }
                .Select(c => Transcript.Run(b, t, c, session)));
        Assert.Equal(Transcript.Replies("bird1.6-restrict.txt"), replies);
        Assert.Empty(b.Actions);
        Assert.Equal(0, b.ShutdownCalls);
    }

    [Theory]
    [InlineData("configure", "Normal", null, null)]
    [InlineData("configure soft", "Soft", null, null)]
    [InlineData("configure \"/srv/lab/bad-syntax.cfg\"", "Normal", "/srv/lab/bad-syntax.cfg", null)]
    [InlineData("configure timeout 30", "Normal", null, 30)]
    [InlineData("configure timeout", "Normal", null, 300)]
    [InlineData("configure soft \"/x.cfg\" timeout 5", "Soft", "/x.cfg", 5)]
    [InlineData("configure check", "Check", null, null)]
    [InlineData("configure check \"/nonexistent/bird.cfg\"", "Check", "/nonexistent/bird.cfg", null)]
    [InlineData("configure confirm", "Confirm", null, null)]
    [InlineData("configure undo", "Undo", null, null)]
    public void Configure_forms_reach_the_backend(string command, string kind, string? file, int? timeout)
    {
        var (b, t) = Node();
        ConfigureRequest? seen = null;
        b.Configure = r =>
        {
            seen = r;
            return ConfigureResult.Reconfigured("/f");
        };
        Transcript.Run(b, t, command);
        Assert.Equal(new ConfigureRequest(Enum.Parse<ConfigureKind>(kind), file, timeout), seen);
    }

    [Fact]
    public void Configure_replies_are_birds()
    {
        var (b, t) = Node();
        const string Path = "/srv/lab/nodeA-bird1.6/bird.cfg";
        b.Configure = _ => ConfigureResult.Reconfigured(Path);
        Assert.Equal(Transcript.Replies("bird1.6-configure.txt"), Transcript.Run(b, t, "configure"));
        b.Configure = _ => ConfigureResult.Ok(Path);
        Assert.Equal(Transcript.Replies("bird1.6-configure-check.txt"), Transcript.Run(b, t, "configure check"));
        b.Configure = _ => ConfigureResult.InProgress(Path);
        Assert.Equal(Transcript.Replies("bird1.6-configure-back.txt"), Transcript.Run(b, t, "configure"));
        b.Configure = r => ConfigureResult.Error(r.File!, $"{r.File}:5:1 syntax error");
        Assert.Equal(Transcript.Replies("bird1.6-configure-badfile.txt"), Transcript.Run(b, t, "configure \"/srv/lab/bad-syntax.cfg\""));
        b.Configure = r => ConfigureResult.Error(r.File!, $"{r.File}: No such file or directory");
        Assert.Equal(Transcript.Replies("bird1.6-configure-check-missingfile.txt"), Transcript.Run(b, t, "configure check \"/nonexistent/bird.cfg\""));
        b.Configure = r => r.Kind switch
        {
            ConfigureKind.Confirm => ConfigureResult.Confirmed(),
            ConfigureKind.Undo => ConfigureResult.UndoRequested(),
            _ => ConfigureResult.ReconfiguredWithUndo(Path, r.TimeoutSeconds!.Value),
        };
        var session = string.Concat(new[] { "configure timeout 30", "configure confirm", "configure undo" }.Select(c => Transcript.Run(b, t, c)));
        Assert.Equal(Transcript.Replies("bird1.6-configure-timeout.txt"), session);
    }

    [Fact]
    public void Show_symbols_lists_protocols_padded_as_bird()
    {
        var (b, t) = Node();
        var reply = Transcript.Run(b, t, "show symbols protocol");
        Assert.StartsWith("1010-static1 \tprotocol\n kernel1 \tprotocol\n", reply, StringComparison.Ordinal);
        Assert.Contains(" Mesh_10_99_0_1\tprotocol\n", reply, StringComparison.Ordinal);
        Assert.EndsWith("0000 \n", reply, StringComparison.Ordinal);
        Assert.Equal("1010 calico_kernel_programming\tfilter\n", Transcript.Run(b, t, "show symbols calico_kernel_programming"));
    }

    [Fact]
    public void Debug_sets_flags_on_matching_protocols()
    {
        var (b, t) = Node();
        Assert.Equal("0000 \n", Transcript.Run(b, t, "debug \"Mesh*\" { states, events }"));
        Assert.Equal("0000 \n", Transcript.Run(b, t, "debug kernel1 off"));
        Assert.Equal(["debug Mesh_10_99_0_1 States, Events", "debug Mesh_10_99_0_3 States, Events", "debug kernel1 None"], b.Actions);
        Assert.Equal("9001 syntax error\n", Transcript.Run(b, t, "debug kernel1 { bogus }"));
    }

    [Fact]
    public void Show_memory_has_birds_layout()
    {
        var (b, t) = Node();
        var lines = Transcript.Run(b, t, "show memory").Split('\n');
        Assert.Equal("1018-BIRD memory usage", lines[0]);
        Assert.Matches(@"^ Routing tables:  +\d+ [ kMG]B$", lines[1]);
        Assert.Matches(@"^ Total:  +\d+ [ kMG]B$", lines[5]);
        Assert.Equal("0000 ", lines[6]);
        Assert.Equal("Total:            9999  B", ShowStatusCommand.Size("Total:", 9999));
        Assert.Equal("Total:              10 kB", ShowStatusCommand.Size("Total:", 10000));
    }

    [Fact]
    public void Reload_of_a_protocol_that_is_not_up_prints_only_the_end()
    {
        var (b, t) = Node();
        Assert.Equal("0000 \n", Transcript.Run(b, t, "reload out Node_10_99_0_50"));
    }

    [Fact]
    public void Invalid_prefixes_get_birds_messages()
    {
        var (b, t) = Node();
        Assert.Equal("9001 Invalid prefix length 33\n", Transcript.Run(b, t, "show route 10.0.0.0/33"));
        Assert.Equal("9001 Invalid prefix\n", Transcript.Run(b, t, "show route 10.0.0.1/24"));
        Assert.Equal("9001 Only one prefix expected\n", Transcript.Run(b, t, "show route 10.0.0.0/8 for 10.1.1.1"));
        Assert.Equal("9001 Nope is not a protocol\n", Transcript.Run(b, t, "show route protocol Nope"));
        Assert.Equal("9001 syntax error\n", Transcript.Run(b, t, "show route where nonsense"));
    }

    [Fact]
    public void Backend_failure_ends_the_reply_with_an_error()
    {
        var (b, t) = Node();
        b.Configure = _ => throw new IOException("disk on fire");
        Assert.Equal("8000 Internal error: disk on fire\n", Transcript.Run(b, t, "configure"));
    }

    [Fact]
    public void Framing_uses_continuations_and_resets_between_replies()
    {
        var w = new ReplyWriter();
        w.Line(1010, "a");
        w.Line(1010, "b");
        w.Line(1006, "");
        w.Final(1010, "c");
        w.Line(1010, "d");
        w.Final(0, "");
        // BIRD 2's rule: a reply's first line always has its code, even after a reply ending in the same code.
        Assert.Equal("1010-a\n b\n1006-\n1010 c\n1010-d\n0000 \n", w.Text);
    }

    [Fact]
    public void Output_lines_are_capped_and_never_contain_newlines()
    {
        var w = new ReplyWriter();
        w.Line(1006, new string('x', 2000));
        w.Final(0, "a\nb");
        var lines = w.Text.Split('\n');
        Assert.Equal(ReplyWriter.MaxLineBytes - 1, lines[0].Length);
        Assert.Equal("0000 a b", lines[1]);
    }
}
