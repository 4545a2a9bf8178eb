namespace Calico.Bgp.Daemon.Hosting;

/// <summary>
/// Parses BIRD's getopt string <c>c:dD:ps:P:u:g:flRh</c> (bundled short flags such as <c>-dR</c>
/// work, as with getopt) and our long options.
/// </summary>
public static class CommandLineParser
{
    /// <summary>Environment variable read as <c>--metrics</c> when the flag is absent.</summary>
    public const string MetricsVariable = "CALICO_BGP_METRICS";

    /// <param name="environment">Reads environment variables; the process environment when null (tests pass their own).</param>
    public static CommandLine Parse(IReadOnlyList<string> args, string programName, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var ipv6 = programName.EndsWith('6');
        var cl = new CommandLine { ProgramName = programName, Ipv6 = ipv6 };
        var localFiles = false;
        string? config = null, socket = null;
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            string Value(string flag) =>
                i + 1 < args.Count ? args[++i] : throw new CommandLineException($"option {flag} requires an argument");

            if (a.StartsWith("--", StringComparison.Ordinal))
            {
                var eq = a.IndexOf('=');
                var name = eq > 0 ? a[..eq] : a;
                string LongValue() => eq > 0 ? a[(eq + 1)..] : Value(name);
                cl = name switch
                {
                    "--help" => cl with { ShowHelp = true },
                    "--version" => cl with { ShowVersion = true },
                    "--metrics" => cl with { MetricsEndpoint = LongValue() },
                    "--dual-stack" => cl with { DualStack = true },
                    "--inline-nexthops" => cl with { InlineNexthops = true },
                    "--log-format" => LongValue() switch
                    {
                        "text" => cl with { LogFormat = "text" },
                        "json" => cl with { LogFormat = "json" },
                        var f => throw new CommandLineException($"--log-format must be text or json, not '{f}'"),
                    },
                    _ => throw new CommandLineException($"unrecognized option '{a}'"),
                };
                continue;
            }
            if (a.Length < 2 || a[0] != '-')
                throw new CommandLineException($"unexpected argument '{a}'");
            for (var j = 1; j < a.Length; j++)
            {
                var flag = a[j];
                // An option with an argument takes the rest of this word, or the next word (getopt).
                string Arg()
                {
                    if (j + 1 < a.Length)
                    {
                        var rest = a[(j + 1)..];
                        j = a.Length;
                        return rest;
                    }
                    j = a.Length;
                    return Value($"-{flag}");
                }
                switch (flag)
                {
                    case 'c': config = Arg(); break;
                    case 's': socket = Arg(); break;
                    case 'd': cl = cl with { Debug = true, Foreground = true }; break;
                    case 'D': cl = cl with { DebugLogFile = Arg() }; break;
                    case 'p': cl = cl with { ParseOnly = true }; break;
                    case 'P': cl = cl with { PidFile = Arg() }; break;
                    case 'u': cl = cl with { User = Arg() }; break;
                    case 'g': cl = cl with { Group = Arg() }; break;
                    case 'f': cl = cl with { Foreground = true }; break;
                    case 'l': localFiles = true; break;
                    case 'R': cl = cl with { GracefulRestart = true }; break;
                    case 'h': cl = cl with { ShowHelp = true }; break;
                    default: throw new CommandLineException($"invalid option -- '{flag}'");
                }
            }
        }
        // calico-node's run script passes BIRD's fixed flags, so a metrics listener inside calico-node
        // can only be asked for through the environment.
        if (cl.MetricsEndpoint is null && environment(MetricsVariable) is { Length: > 0 } metrics)
            cl = cl with { MetricsEndpoint = metrics };
        var stem = ipv6 ? "bird6" : "bird";
        // BIRD's defaults as Calico's fork builds them (--runstatedir=/var/run/calico); -l looks in the working directory.
        config ??= localFiles ? $"{stem}.conf" : $"/etc/{stem}.conf";
        socket ??= localFiles ? $"{stem}.ctl" : $"/var/run/calico/{stem}.ctl";
        return cl with { ConfigFile = config, SocketPath = socket };
    }

    /// <summary>
    /// argv[0] as the process was exec'd, so a symlink named <c>bird6</c> selects IPv6 (the .NET
    /// host's own view of argv[0] is the managed assembly path, not the name used).
    /// </summary>
    public static string ReadProgramName()
    {
        try
        {
            var cmdline = File.ReadAllBytes("/proc/self/cmdline");
            var end = Array.IndexOf(cmdline, (byte)0);
            var argv0 = System.Text.Encoding.UTF8.GetString(cmdline, 0, end < 0 ? cmdline.Length : end);
            var name = Path.GetFileName(argv0);
            // Launched as `dotnet calico-bgpd.dll`: the program is the assembly.
            if (name is "dotnet" && Environment.GetCommandLineArgs() is [var dll, ..])
                name = Path.GetFileNameWithoutExtension(dll);
            return name;
        }
        catch (IOException)
        {
            return "calico-bgpd";
        }
    }
}
