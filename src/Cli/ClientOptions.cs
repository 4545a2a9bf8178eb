namespace Calico.Bgp.Cli;

/// <summary>birdc's command line: <c>[-s SOCKET] [-r] [-v] [-l] [command…]</c>.</summary>
internal sealed record ClientOptions(string SocketPath, bool Restricted, bool Verbose, string? Command)
{
    public const string DefaultSocket = "/var/run/calico/bird.ctl";
    public const string DefaultSocket6 = "/var/run/calico/bird6.ctl";

    /// <summary>Parses the arguments; <paramref name="invokedAs"/> picks bird6.ctl when called as birdc6/birdcl6.</summary>
    public static ClientOptions? Parse(IReadOnlyList<string> args, string invokedAs, TextWriter error)
    {
        var name = Path.GetFileName(invokedAs);
        var socket = name.EndsWith('6') ? DefaultSocket6 : DefaultSocket;
        bool restricted = false, verbose = false;
        var i = 0;
        for (; i < args.Count && args[i].StartsWith('-') && args[i].Length > 1; i++)
        {
            switch (args[i])
            {
                case "-s" when i + 1 < args.Count:
                    socket = args[++i];
                    break;
                case "-r":
                    restricted = true;
                    break;
                case "-v":
                    verbose = true;
                    break;
                case "-l":
                    socket = name.EndsWith('6') ? "bird6.ctl" : "bird.ctl";
                    break;
                default:
                    error.WriteLine($"Usage: {name} [-s <control-socket>] [-v] [-r] [-l] [command]");
                    return null;
            }
        }
        var command = i < args.Count ? string.Join(' ', args.Skip(i)) : null;
        return new ClientOptions(socket, restricted, verbose, command);
    }
}
