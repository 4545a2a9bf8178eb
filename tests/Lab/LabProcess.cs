using System.Diagnostics;
using System.Text;

namespace Calico.Bgp.Lab;

/// <summary>
/// A long-running process the lab started inside a namespace (a daemon under test or a reference
/// peer). Its output is kept for failure messages; it is stopped by its own PID, never by name.
/// </summary>
public sealed class LabProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _lock = new();

    internal LabProcess(string name, Process process)
    {
        Name = name;
        _process = process;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Name { get; }
    public int Pid => _process.Id;
    public bool HasExited
    {
        get
        {
            try
            {
                return _process.HasExited;
            }
            catch (InvalidOperationException)
            {
                // Disposed: it was stopped.
                return true;
            }
        }
    }
    public int ExitCode => _process.ExitCode;

    /// <summary>Everything the process printed so far (stdout and stderr interleaved).</summary>
    public string Output
    {
        get
        {
            lock (_lock)
                return _output.ToString();
        }
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_lock)
        {
            // Keep the tail only: a chatty daemon must not grow test memory without bound.
            if (_output.Length > 1_000_000)
                _output.Remove(0, 500_000);
            _output.AppendLine(line);
        }
    }

    /// <summary>Sends a signal to this process (by PID).</summary>
    public void Signal(int signal)
    {
        if (!HasExited)
            _ = Native.Kill(_process.Id, signal);
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>SIGTERM, then SIGKILL if it lingers.</summary>
    public async Task StopAsync(TimeSpan? grace = null)
    {
        if (HasExited)
            return;
        Signal(Native.SigTerm);
        if (!await WaitForExitAsync(grace ?? TimeSpan.FromSeconds(5)).ConfigureAwait(false))
        {
            Signal(Native.SigKill);
            await WaitForExitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
    }

    /// <summary>SIGKILL at once (a crash).</summary>
    public Task KillAsync()
    {
        Signal(Native.SigKill);
        return WaitForExitAsync(TimeSpan.FromSeconds(5));
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
        _process.Dispose();
    }

    public override string ToString() => $"{Name} (pid {Pid})";
}

internal static partial class Native
{
    public const int SigHup = 1;
    public const int SigKill = 9;
    public const int SigTerm = 15;

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);
}

internal static partial class Native
{
    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEuid();
}
