using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Calico.Bgp.Lab;

namespace Calico.Bgp.LoadGen.Orchestration;

/// <summary>
/// This same program, started as the generator inside the generator namespace on its own core,
/// and driven line by line: READY → GO → (SENT → STOP) → RESULT. Stopped by its own PID.
/// </summary>
public sealed class AgentProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();

    private AgentProcess(Process process)
    {
        _process = process;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (_stderr)
                _stderr.AppendLine(e.Data);
        };
        _process.BeginErrorReadLine();
    }

    public int Pid => _process.Id;

    public static AgentProcess Start(LabHost generator, int? core, string scenario, params string[] args)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        List<string> exe = Path.GetFileName(self) == "dotnet" ? [self, typeof(AgentProcess).Assembly.Location] : [self];
        var psi = new ProcessStartInfo("ip")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        List<string> command = core is { } c ? ["taskset", "-c", c.ToString(CultureInfo.InvariantCulture), .. exe] : exe;
        foreach (var a in (string[])["netns", "exec", generator.Netns, .. command, "agent", scenario, .. args])
            psi.ArgumentList.Add(a);
        return new AgentProcess(Process.Start(psi) ?? throw new InvalidOperationException("cannot start the agent"));
    }

    /// <summary>Waits for a line (READY, SENT); fails with the agent's stderr if it exits first, or at once if the DUT dies.</summary>
    public async Task ExpectAsync(string expected, TimeSpan timeout, Dut? dut = null)
    {
        while (true)
        {
            var line = await ReadLineAsync(timeout, dut).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"the generator exited before {expected}: {Errors()}");
            if (line == expected)
                return;
        }
    }

    private Task<string?>? _pending;

    /// <summary>One stdout line, checking twice a second that the DUT is still alive.</summary>
    private async Task<string?> ReadLineAsync(TimeSpan timeout, Dut? dut)
    {
        var deadline = DateTime.UtcNow + timeout;
        _pending ??= _process.StandardOutput.ReadLineAsync();
        while (true)
        {
            if (await Task.WhenAny(_pending, Task.Delay(500)).ConfigureAwait(false) == _pending)
            {
                var line = await _pending.ConfigureAwait(false);
                _pending = null;
                if (line is null)
                    dut?.ThrowIfExited();
                return line;
            }
            dut?.ThrowIfExited();
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the generator said nothing for {timeout.TotalSeconds} s; {Errors()}");
        }
    }

    public async Task SayAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line).ConfigureAwait(false);
        await _process.StandardInput.FlushAsync().ConfigureAwait(false);
    }

    /// <summary>Reads the RESULT line, parsed.</summary>
    public async Task<JsonElement> ResultAsync(TimeSpan timeout, Dut? dut = null)
    {
        while (true)
        {
            var line = await ReadLineAsync(timeout, dut).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"the generator exited without a result: {Errors()}");
            if (line.StartsWith("RESULT ", StringComparison.Ordinal))
                return JsonDocument.Parse(line[7..]).RootElement.Clone();
        }
    }

    /// <summary>Waits for the generator to exit (at most <paramref name="timeout"/>); false if it has not.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private string Errors()
    {
        lock (_stderr)
            return _stderr.Length < 4000 ? _stderr.ToString() : _stderr.ToString()[^4000..];
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }
        _process.Dispose();
    }
}
