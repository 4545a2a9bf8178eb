namespace Calico.Bgp.Cli;

internal static class Program
{
    public static int Main(string[] args)
    {
        if (Health.HealthCommand.Matches(args))
            return Health.HealthCommand.Run(args, InvokedAs(), Console.Out, Console.Error);
        var interactiveConsole = !Console.IsInputRedirected && !Console.IsOutputRedirected;
        return BirdClient.Run(args, InvokedAs(), Console.In, Console.Out, Console.Error, interactiveConsole);
    }

    /// <summary>
    /// argv[0] as the process was started (a <c>birdcl6</c> symlink picks bird6.ctl); .NET's own
    /// command-line args name the assembly instead, so read it from /proc on Linux.
    /// </summary>
    private static string InvokedAs()
    {
        try
        {
            var cmdline = File.ReadAllText("/proc/self/cmdline");
            var argv0 = cmdline.Split('\0')[0];
            if (argv0.Length > 0)
                return argv0;
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return Environment.GetCommandLineArgs().FirstOrDefault() ?? "calico-bgpc";
    }
}
