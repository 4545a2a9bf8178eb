using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Calico.Bgp.Cli.Health;

/// <summary>
/// <c>calico-bgpc [-s SOCKET] health [--threshold-time S]</c>: calico-node's bird-ready verdict
/// for an exec probe, computed over the control socket with <c>show protocols</c> and
/// <c>show status</c> as calico-node does, so it answers the same against BIRD. Exit 0 ready,
/// 1 not ready (or the daemon cannot be asked), 2 bad arguments. The start-up window counts from
/// the daemon's <c>Last reboot</c> (calico-node uses its nodename file, written at pod start).
/// </summary>
internal static class HealthCommand
{
    private const string Usage = "Usage: {0} [-s <control-socket>] health [--threshold-time <seconds>]";
    private const int DefaultThresholdSeconds = 30;
    // calico-node's per-line read deadline.
    private static readonly TimeSpan LineDeadline = TimeSpan.FromSeconds(2);

    /// <summary>Whether the first word after birdc's options is <c>health</c> (no BIRD command starts so).</summary>
    public static bool Matches(IReadOnlyList<string> args)
    {
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == "-s")
                i++;
            else if (!args[i].StartsWith('-'))
                return args[i] == "health";
        }
        return false;
    }

    public static int Run(IReadOnlyList<string> args, string invokedAs, TextWriter output, TextWriter error)
    {
        var name = Path.GetFileName(invokedAs);
        var socket = name.EndsWith('6') ? ClientOptions.DefaultSocket6 : ClientOptions.DefaultSocket;
        var threshold = TimeSpan.FromSeconds(DefaultThresholdSeconds);
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "health" or "-r" or "-v" or "-l":
                    break;
                case "-s" when i + 1 < args.Count:
                    socket = args[++i];
                    break;
                case "--threshold-time" when i + 1 < args.Count && double.TryParse(args[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s >= 0:
                    threshold = TimeSpan.FromSeconds(s);
                    i++;
                    break;
                default:
                    error.WriteLine(string.Format(CultureInfo.InvariantCulture, Usage, name));
                    return 2;
            }
        }
        try
        {
            var (ready, reason) = Check(socket, threshold);
            output.WriteLine((ready ? "ready: " : "not ready: ") + reason);
            return ready ? 0 : 1;
        }
        catch (Exception e) when (e is SocketException or IOException or FormatException)
        {
            output.WriteLine($"not ready: {socket}: {e.Message}");
            return 1;
        }
    }

    private static (bool Ready, string Reason) Check(string socketPath, TimeSpan threshold)
    {
        var peers = BirdReadiness.ParsePeers(Ask(socketPath, "show protocols"));
        var (gracefulRestart, age) = BirdReadiness.ParseStatus(Ask(socketPath, "show status"));
        // An unknown age counts as the start-up window: the stricter rule.
        var within = age is not { } a || a < threshold;
        return BirdReadiness.Decide(peers, within, gracefulRestart);
    }

    /// <summary>One command per connection, sent without waiting for the banner, as calico-node does.</summary>
    private static List<string> Ask(string socketPath, string command)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.ReceiveTimeout = (int)LineDeadline.TotalMilliseconds;
        socket.SendTimeout = (int)LineDeadline.TotalMilliseconds;
        socket.Connect(new UnixDomainSocketEndPoint(socketPath));
        using var stream = new NetworkStream(socket, ownsSocket: false);
        stream.Write(Encoding.ASCII.GetBytes(command + "\n"));
        using var reader = new StreamReader(stream, new UTF8Encoding(false));
        List<string> lines = [];
        while (reader.ReadLine() is { } line)
        {
            lines.Add(line);
            // The final line of the reply to the command (the banner is 0001 and final too).
            if (line.Length >= 5 && line[4] == ' ' && char.IsAsciiDigit(line[0]) && !line.StartsWith("0001", StringComparison.Ordinal))
                break;
        }
        return lines;
    }
}
