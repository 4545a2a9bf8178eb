namespace Calico.Bgp.Daemon.Health;

/// <summary>
/// <c>/livez</c>: the daemon is alive when every registered loop has beaten recently and its
/// state can be read in time (a deadlocked table or protocol list makes the read hang). The
/// metrics server registers its own ticking loop, so a stalled timer or thread pool shows too;
/// the host registers whatever else it runs.
/// </summary>
public sealed class LivenessMonitor(TimeProvider time)
{
    private readonly Lock _lock = new();
    private readonly List<Heartbeat> _beats = [];

    /// <summary>Adds a loop that promises to beat at least once per <paramref name="maxSilence"/>.</summary>
    public Heartbeat Register(string name, TimeSpan maxSilence)
    {
        var beat = new Heartbeat(name, maxSilence, time);
        lock (_lock)
            _beats.Add(beat);
        return beat;
    }

    /// <summary>Stops watching a loop that ended on purpose.</summary>
    public void Unregister(Heartbeat beat)
    {
        lock (_lock)
            _beats.Remove(beat);
    }

    /// <summary>
    /// Checks the heartbeats, then runs <paramref name="probe"/> (a read of the daemon's state) on
    /// the thread pool and waits for it up to <paramref name="deadline"/>.
    /// </summary>
    public async Task<HealthVerdict> CheckAsync(Action probe, TimeSpan deadline)
    {
        var now = time.GetUtcNow();
        List<string> problems = [];
        lock (_lock)
        {
            foreach (var b in _beats)
            {
                if (b.Overdue(now) is { } silence)
                    problems.Add($"{b.Name} silent for {silence.TotalSeconds:0.#} s (allowed {b.MaxSilence.TotalSeconds:0.#} s)");
            }
        }
        var read = Task.Run(probe);
        var finished = await Task.WhenAny(read, Task.Delay(deadline, time)).ConfigureAwait(false);
        if (finished != read)
            problems.Add($"daemon state not readable within {deadline.TotalSeconds:0.#} s");
        else if (read.Exception is { } e)
            problems.Add($"daemon state read failed: {e.InnerException?.Message ?? e.Message}");
        return problems.Count == 0 ? HealthVerdict.Ok("alive") : HealthVerdict.Fail(string.Join("; ", problems));
    }
}
