namespace Calico.Bgp.Daemon.Health;

/// <summary>
/// A loop's sign of life: the loop calls <see cref="Beat"/> each time round; the liveness check
/// fails when it has been silent longer than <see cref="MaxSilence"/>.
/// </summary>
public sealed class Heartbeat
{
    private readonly TimeProvider _time;
    private long _lastTicks;

    internal Heartbeat(string name, TimeSpan maxSilence, TimeProvider time)
    {
        Name = name;
        MaxSilence = maxSilence;
        _time = time;
        Beat();
    }

    public string Name { get; }
    public TimeSpan MaxSilence { get; }
    public DateTimeOffset Last => new(Interlocked.Read(ref _lastTicks), TimeSpan.Zero);

    public void Beat() => Interlocked.Exchange(ref _lastTicks, _time.GetUtcNow().UtcTicks);

    /// <summary>How long the loop has been silent, when longer than allowed; otherwise null.</summary>
    public TimeSpan? Overdue(DateTimeOffset now) => now - Last is var silence && silence > MaxSilence ? silence : null;
}
