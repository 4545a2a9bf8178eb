using Calico.Bgp.Config;
using Calico.Bgp.Daemon.Hosting;
using Calico.Bgp.Daemon.Logging;
using Calico.Bgp.Daemon.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Calico.Bgp.Daemon;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var program = CommandLineParser.ReadProgramName();
        CommandLine cl;
        try
        {
            cl = CommandLineParser.Parse(args, program);
        }
        catch (CommandLineException e)
        {
            await Console.Error.WriteLineAsync($"{program}: {e.Message}\nTry '{program} --help' for more information.");
            return 2;
        }
        if (cl.ShowHelp)
        {
            Console.WriteLine(CommandLine.Usage(program));
            return 0;
        }
        if (cl.ShowVersion)
        {
            // BIRD prints its version on stderr.
            await Console.Error.WriteLineAsync($"BIRD version {BuildInfo.BirdCompatibleVersion} ({BuildInfo.Product} {BuildInfo.Version})");
            return 0;
        }
        if (cl.ParseOnly)
            return CheckConfig(cl);

        // What the runtime's own start touched goes before the host's set-up adds to it: the start-up's
        // peak RSS is the one a small daemon keeps as its high-water mark (P2 at K=100: 1.8 MiB less).
        ImageResidency.Release();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        ConfigureLogging(builder.Logging, cl);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        builder.Services.AddSingleton(cl);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<RoutingDaemon>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RoutingDaemon>());
        builder.Services.AddMetricsEndpoint<RoutingDaemon>(cl.MetricsEndpoint);
        builder.Services.AddSingleton<Microsoft.Extensions.Hosting.IHostLifetime, Hosting.SignalLifetime>();
        using var host = builder.Build();
        var daemon = host.Services.GetRequiredService<RoutingDaemon>();
        // Taken now: RunAsync disposes the host's services before a start failure reaches us.
        var stopping = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        try
        {
            await host.RunAsync();
        }
        catch (DaemonStartException e)
        {
            await Console.Error.WriteLineAsync($"{program}: {e.Message}");
            return 1;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // SIGTERM while the protocols were still starting: the start is abandoned and the host
            // disposes what did start; a requested shutdown, so BIRD's exit status, not a crash.
            return daemon.ExitCode;
        }
        return daemon.ExitCode;
    }

    /// <summary><c>-p</c>: BIRD exits 0 for a valid config; otherwise non-zero with <c>file:line:col: message</c>.</summary>
    private static int CheckConfig(CommandLine cl)
    {
        try
        {
            ConfigLoader.Load(cl.ConfigFile, cl.ConfigOptions);
            return 0;
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine(e.Message);
            return 1;
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"{cl.ConfigFile}: {e.Message}");
            return 1;
        }
    }

    internal static void ConfigureLogging(ILoggingBuilder logging, CommandLine cl)
    {
        logging.ClearProviders();
        logging.SetMinimumLevel(cl.Debug ? LogLevel.Debug : LogLevel.Information);
        logging.AddFilter("Microsoft", LogLevel.Warning);
        // BIRD under runit logs to stderr (-d); everything goes there.
        logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        if (cl.LogFormat == "json")
        {
            logging.AddJsonConsole(o =>
            {
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.UseUtcTimestamp = true;
            });
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-dd HH:mm:ss.fff ";
                o.ColorBehavior = LoggerColorBehavior.Disabled;
            });
        }
        // A flapping peer or a storm of malformed input must not flood the log.
        logging.AddRepeatLimiting();
        // BIRD's per-protocol `debug { states, routes, … }` decide which of a protocol's Debug messages
        // pass; -d alone (calico-node always gives it) does not switch them on.
        logging.AddProtocolDebug(new ProtocolDebugSwitch());
    }
}
