namespace Calico.Bgp.Cli;

/// <summary>
/// calico-bgpc: a birdc/birdcl-compatible client. With a command on the command line it prints
/// the banner and that command's reply and exits; without one it reads commands interactively.
/// Exit status is 1 when the socket cannot be reached, a command is rejected client-side, or the
/// last reply is an error (8xxx/9xxx), as BIRD 2's client does.
/// </summary>
internal static class BirdClient
{
    public static int Run(IReadOnlyList<string> args, string invokedAs, TextReader input, TextWriter output, TextWriter error, bool interactiveConsole)
    {
        var options = ClientOptions.Parse(args, invokedAs, error);
        if (options is null)
            return 2;
        using var connection = ClientConnection.Connect(options.SocketPath, output, error, options.Verbose);
        if (connection is null)
            return 1;
        if (connection.ReadReply() < 0)
            return Closed(error);
        if (options.Restricted)
        {
            connection.Send("restrict");
            if (connection.ReadReply() < 0)
                return Closed(error);
        }
        if (options.Command is { } command)
            return Execute(connection, command, output);
        return Interactive(connection, input, output, error, interactiveConsole);
    }

    /// <summary>Expands and sends one command; returns the exit status it deserves.</summary>
    private static int Execute(ClientConnection connection, string line, TextWriter output)
    {
        var expansion = CommandTable.Expand(line);
        if (expansion.Command is null)
        {
            foreach (var m in expansion.Messages)
                output.WriteLine(m);
            return 1;
        }
        connection.Send(expansion.Command);
        var code = connection.ReadReply();
        return code is < 0 or >= 8000 ? 1 : 0;
    }

    private static int Interactive(ClientConnection connection, TextReader input, TextWriter output, TextWriter error, bool console)
    {
        var editor = console ? new LineEditor(output) : null;
        var status = 0;
        while (true)
        {
            string? line;
            if (editor is not null)
                line = editor.ReadLine("bird> ");
            else
            {
                output.Write("bird> ");
                output.Flush();
                line = input.ReadLine();
            }
            if (line is null)
            {
                output.WriteLine();
                return status;
            }
            line = line.Trim();
            if (line.Length == 0)
                continue;
            if (line is "exit" or "quit")
                return status;
            if (line == "help" || line.EndsWith('?'))
            {
                foreach (var h in CommandTable.Help(line == "help" ? "" : line.TrimEnd('?')))
                    output.WriteLine(h);
                continue;
            }
            var expansion = CommandTable.Expand(line);
            if (expansion.Command is null)
            {
                foreach (var m in expansion.Messages)
                    output.WriteLine(m);
                status = 1;
                continue;
            }
            connection.Send(expansion.Command);
            var code = connection.ReadReply();
            if (code < 0)
                return Closed(error);
            status = code >= 8000 ? 1 : 0;
        }
    }

    private static int Closed(TextWriter error)
    {
        error.WriteLine("Connection closed by server");
        return 1;
    }
}
