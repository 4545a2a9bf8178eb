using Calico.Bgp.Daemon.Hosting;

namespace Calico.Bgp.Daemon.Tests.Hosting;

public class CommandLineTests
{
    [Fact]
    public void Calicos_run_script_line_parses()
    {
        var cl = CommandLineParser.Parse(["-R", "-s", "/var/run/calico/bird.ctl", "-d", "-c", "/etc/calico/confd/config/bird.cfg"], "bird");
        Assert.True(cl.GracefulRestart);
        Assert.True(cl.Debug);
        Assert.True(cl.Foreground);
        Assert.False(cl.Ipv6);
        Assert.Equal("/var/run/calico/bird.ctl", cl.SocketPath);
        Assert.Equal("/etc/calico/confd/config/bird.cfg", cl.ConfigFile);
    }

    [Fact]
    public void Confds_check_command_parses()
    {
        var cl = CommandLineParser.Parse(["-p", "-c", "/etc/calico/confd/config/.bird.cfg123"], "bird");
        Assert.True(cl.ParseOnly);
        Assert.Equal("/etc/calico/confd/config/.bird.cfg123", cl.ConfigFile);
    }

    [Fact]
    public void Run_as_bird6_it_is_the_IPv6_daemon_with_bird6_defaults()
    {
        var cl = CommandLineParser.Parse([], "bird6");
        Assert.True(cl.Ipv6);
        Assert.Equal("/var/run/calico/bird6.ctl", cl.SocketPath);
        Assert.Equal("/etc/bird6.conf", cl.ConfigFile);
    }

    [Fact]
    public void Dual_stack_is_asked_for_explicitly_and_reads_both_families()
    {
        var cl = CommandLineParser.Parse(["--dual-stack", "-c", "x.cfg"], "calico-bgpd");
        Assert.True(cl.DualStack);
        Assert.True(cl.ConfigOptions.DualStack);
        Assert.False(CommandLineParser.Parse([], "bird").DualStack);
        Assert.False(CommandLineParser.Parse([], "calico-bgpd").DualStack);
    }

    [Fact]
    public void Nexthop_objects_are_the_default_and_inline_nexthops_turns_them_off()
    {
        Assert.False(CommandLineParser.Parse([], "bird").InlineNexthops);
        Assert.True(CommandLineParser.Parse(["--inline-nexthops"], "bird").InlineNexthops);
    }

    [Fact]
    public void Defaults_follow_Calicos_build_of_BIRD()
    {
        var cl = CommandLineParser.Parse([], "bird");
        Assert.Equal("/var/run/calico/bird.ctl", cl.SocketPath);
        Assert.Equal("/etc/bird.conf", cl.ConfigFile);
    }

    [Fact]
    public void Bundled_flags_and_attached_values_work_as_with_getopt()
    {
        var cl = CommandLineParser.Parse(["-dR", "-c/etc/x.cfg", "-P", "/run/b.pid", "-f"], "bird");
        Assert.True(cl.Debug);
        Assert.True(cl.GracefulRestart);
        Assert.Equal("/etc/x.cfg", cl.ConfigFile);
        Assert.Equal("/run/b.pid", cl.PidFile);
    }

    [Fact]
    public void Local_mode_looks_in_the_working_directory()
    {
        var cl = CommandLineParser.Parse(["-l"], "bird");
        Assert.Equal("bird.conf", cl.ConfigFile);
        Assert.Equal("bird.ctl", cl.SocketPath);
    }

    [Fact]
    public void Long_options_parse()
    {
        var cl = CommandLineParser.Parse(["--metrics", "127.0.0.1:9091", "--log-format=json", "--version"], "calico-bgpd");
        Assert.Equal("127.0.0.1:9091", cl.MetricsEndpoint);
        Assert.Equal("json", cl.LogFormat);
        Assert.True(cl.ShowVersion);
    }

    [Theory]
    [InlineData(new[] { "-x" }, "invalid option -- 'x'")]
    [InlineData(new[] { "--frobnicate" }, "unrecognized option '--frobnicate'")]
    [InlineData(new[] { "-c" }, "option -c requires an argument")]
    [InlineData(new[] { "stray" }, "unexpected argument 'stray'")]
    [InlineData(new[] { "--log-format", "xml" }, "--log-format must be text or json, not 'xml'")]
    public void Bad_command_lines_say_what_is_wrong(string[] args, string message)
    {
        var e = Assert.Throws<CommandLineException>(() => CommandLineParser.Parse(args, "bird"));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void The_metrics_listener_can_come_from_the_environment_when_the_flag_is_absent()
    {
        string? Env(string name) => name == CommandLineParser.MetricsVariable ? "0.0.0.0:9091" : null;
        Assert.Equal("0.0.0.0:9091", CommandLineParser.Parse(["-R", "-d"], "bird", Env).MetricsEndpoint);
        Assert.Equal("127.0.0.1:1", CommandLineParser.Parse(["--metrics", "127.0.0.1:1"], "bird", Env).MetricsEndpoint);
        Assert.Null(CommandLineParser.Parse(["-R"], "bird", _ => null).MetricsEndpoint);
    }
}
