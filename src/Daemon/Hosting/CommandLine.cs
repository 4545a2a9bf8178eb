namespace Calico.Bgp.Daemon.Hosting;

/// <summary>How the daemon was asked to run: BIRD 1.6's flags (Calico runs
/// <c>bird -R -s /var/run/calico/bird.ctl -d -c /etc/calico/confd/config/bird.cfg</c> and checks
/// configs with <c>bird -p -c FILE</c>) plus a few long options of our own.</summary>
public sealed record CommandLine
{
    public string ConfigFile { get; init; } = "";
    public string SocketPath { get; init; } = "";
    /// <summary><c>-d</c>: stay in the foreground and log to stderr.</summary>
    public bool Debug { get; init; }
    /// <summary><c>-D FILE</c>: debug log file.</summary>
    public string? DebugLogFile { get; init; }
    /// <summary><c>-f</c>: stay in the foreground.</summary>
    public bool Foreground { get; init; }
    /// <summary><c>-p</c>: parse the config and exit.</summary>
    public bool ParseOnly { get; init; }
    /// <summary><c>-R</c>: graceful-restart recovery at start.</summary>
    public bool GracefulRestart { get; init; }
    /// <summary><c>-P FILE</c>: write the PID there.</summary>
    public string? PidFile { get; init; }
    public string? User { get; init; }
    public string? Group { get; init; }
    /// <summary>IPv6 daemon (run as <c>bird6</c>, as BIRD 1.6 splits families by binary).</summary>
    public bool Ipv6 { get; init; }
    /// <summary>
    /// <c>--dual-stack</c>: one daemon for both families (BIRD 1.6 needs a bird and a bird6). The
    /// config may hold addresses of either family; each BGP session takes its family from its
    /// neighbor, static routes from their prefixes, and kernel and direct protocols handle both.
    /// </summary>
    public bool DualStack { get; init; }

    /// <summary>
    /// <c>--inline-nexthops</c>: kernel routes carry their own gateways, exactly as BIRD writes them,
    /// instead of naming shared kernel nexthop objects (<c>nhid N</c> in <c>ip route</c>; the
    /// default where the kernel has them, Linux 5.3+).
    /// </summary>
    public bool InlineNexthops { get; init; }

    /// <summary>How the config file is read under this command line.</summary>
    public Calico.Bgp.Config.ConfigLoadOptions ConfigOptions => new() { Ipv6 = Ipv6, DualStack = DualStack };
    /// <summary><c>--metrics ADDR:PORT</c>: Prometheus and health listener.</summary>
    public string? MetricsEndpoint { get; init; }
    /// <summary><c>--log-format text|json</c>.</summary>
    public string LogFormat { get; init; } = "text";
    public bool ShowHelp { get; init; }
    public bool ShowVersion { get; init; }

    /// <summary>The program name as invoked (argv[0]'s file name): <c>bird</c>, <c>bird6</c>, <c>calico-bgpd</c>…</summary>
    public string ProgramName { get; init; } = "calico-bgpd";

    public static string Usage(string program) => $"""
        Usage: {program} [--version] [--help] [-c <config-file>] [OPTIONS]

        Options:
          -c <config-file>     Use given configuration file instead of the default
          -d                   Enable debug messages and run bird in foreground
          -D <debug-file>      Log debug messages to given file instead of stderr
          -f                   Run bird in foreground
          -g <group>           Use given group ID
          -h, --help           Display this information
          -l                   Look for a configuration file and a control socket in the current working directory
          -p                   Test configuration file and exit without start
          -P <pid-file>        Create a PID file with given filename
          -R                   Apply graceful restart recovery after start
          -s <control-socket>  Use given filename for a control socket
          -u <user>            Drop privileges and use given user ID
          --version            Display version of BIRD
          --metrics <a:p>      Serve Prometheus metrics and /livez, /readyz on address:port
          --log-format <f>     Log as text (default) or json (one object per line)
          --dual-stack         Run IPv4 and IPv6 from one config (sessions take the neighbor's family)
          --inline-nexthops    Write kernel routes with their own gateways, as BIRD does (no nexthop objects)
        """;
}

/// <summary>A command line that cannot be obeyed; the message says why.</summary>
public sealed class CommandLineException(string message) : Exception(message);
