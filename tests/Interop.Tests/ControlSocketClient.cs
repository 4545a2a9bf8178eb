using System.Net.Sockets;
using System.Text;

namespace Calico.Bgp.Interop.Tests;

/// <summary>The ways a reply is read from a control socket: raw bytes, and the three BIRD clients.</summary>
public enum ControlAccess
{
    /// <summary>The socket itself, the way calico-node's Go code reads it (command sent before the banner is read).</summary>
    Socket,
    /// <summary>BIRD 1.6's own birdc (tools/bird1.6).</summary>
    Bird16Birdc,
    /// <summary>Debian's bird2 birdc.</summary>
    Bird2Birdc,
    /// <summary>Debian's bird2 birdcl (what calico-node's liveness probe runs).</summary>
    Bird2Birdcl,
}

/// <summary>Talks to a BIRD control socket, ours or BIRD's.</summary>
public static class ControlSocketClient
{
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Connects, writes every command at once (as Calico does, without waiting for the banner), and
    /// returns the bytes read up to the final line of the last reply, banner included.
    /// </summary>
    public static async Task<string> RawAsync(string socketPath, params string[] commands)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        using var cts = new CancellationTokenSource(ReadTimeout);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cts.Token);
        await socket.SendAsync(Encoding.ASCII.GetBytes(string.Concat(commands.Select(c => c + "\n"))), SocketFlags.None, cts.Token);
        var text = new StringBuilder();
        var buffer = new byte[65536];
        var finals = 0;
        var lineStart = 0;
        // The banner's 0001 line is a final line too: one more final than commands.
        while (finals < commands.Length + 1)
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            if (n == 0)
                break;
            text.Append(Encoding.UTF8.GetString(buffer, 0, n));
            var s = text.ToString();
            int nl;
            while ((nl = s.IndexOf('\n', lineStart)) >= 0)
            {
                if (nl - lineStart >= 5 && char.IsAsciiDigit(s[lineStart]) && s[lineStart + 4] == ' ')
                    finals++;
                lineStart = nl + 1;
            }
        }
        return text.ToString();
    }

    /// <summary>One command's raw reply, or "" while no daemon answers on the socket yet (for a wait's condition or its description).</summary>
    public static async Task<string> RawOrEmptyAsync(string socketPath, string command)
    {
        try
        {
            return await RawAsync(socketPath, command);
        }
        catch (SocketException)
        {
            return "";
        }
    }

    /// <summary>Runs one command through <paramref name="access"/> and returns what it printed (stdout, then stderr).</summary>
    public static async Task<string> RunAsync(ControlAccess access, string socketPath, string command)
    {
        if (access == ControlAccess.Socket)
            return await RawAsync(socketPath, command);
        var r = await ClientAsync(access, socketPath, command);
        return r.StdOut + r.StdErr;
    }

    /// <summary>Runs a BIRD client with the command as separate words (the client expands abbreviations).</summary>
    public static Task<CommandResult> ClientAsync(ControlAccess access, string socketPath, string command)
    {
        var client = access switch
        {
            ControlAccess.Bird16Birdc => LabTools.Bird16Client,
            ControlAccess.Bird2Birdc => LabTools.Bird2Client,
            ControlAccess.Bird2Birdcl => Path.Combine(Path.GetDirectoryName(LabTools.Bird2Client)!, "birdcl"),
            _ => throw new ArgumentOutOfRangeException(nameof(access), access, null),
        };
        return Shell.RunAsync(client, ["-s", socketPath, .. command.Split(' ', StringSplitOptions.RemoveEmptyEntries)], TimeSpan.FromSeconds(15), stdin: "");
    }
}
