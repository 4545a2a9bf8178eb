using System.Diagnostics;
using System.Text;

namespace Calico.Bgp.Lab;

/// <summary>The outcome of a finished command.</summary>
public sealed record CommandResult(int ExitCode, string StdOut, string StdErr)
{
    public bool Ok => ExitCode == 0;

    public CommandResult ThrowIfFailed(string what)
    {
        if (!Ok)
            throw new InvalidOperationException($"{what} failed with exit code {ExitCode}: {StdErr.Trim()} {StdOut.Trim()}");
        return this;
    }
}

/// <summary>Runs short commands to completion (ip, birdc, …), bounded in time.</summary>
public static class Shell
{
    public static async Task<CommandResult> RunAsync(string file, IEnumerable<string> args, TimeSpan? timeout = null, string? stdin = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await p.StandardInput.WriteAsync(stdin).ConfigureAwait(false);
            p.StandardInput.Close();
        }
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            await p.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in time");
        }
        return new CommandResult(p.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    public static Task<CommandResult> RunAsync(string file, params string[] args) => RunAsync(file, (IEnumerable<string>)args);

    public static string Quote(IEnumerable<string> args)
    {
        var sb = new StringBuilder();
        foreach (var a in args)
        {
            if (sb.Length > 0)
                sb.Append(' ');
            sb.Append(a.Contains(' ') ? $"'{a}'" : a);
        }
        return sb.ToString();
    }
}
