using Calico.Bgp.Daemon.Health;
using Calico.Bgp.Daemon.Tests.Control;

namespace Calico.Bgp.Daemon.Tests.Metrics;

public class LivenessTests
{
    [Fact]
    public async Task Alive_while_loops_beat_and_the_state_reads()
    {
        var time = new ManualTime(ManualTime.At("10:00:00"));
        var monitor = new LivenessMonitor(time);
        var beat = monitor.Register("reload loop", TimeSpan.FromSeconds(10));
        time.Now = ManualTime.At("10:00:09");
        Assert.True((await monitor.CheckAsync(() => { }, TimeSpan.FromSeconds(2))).Healthy);

        time.Now = ManualTime.At("10:00:12");
        var verdict = await monitor.CheckAsync(() => { }, TimeSpan.FromSeconds(2));
        Assert.False(verdict.Healthy);
        Assert.Contains("reload loop silent for 12 s", verdict.Reason, StringComparison.Ordinal);

        beat.Beat();
        Assert.True((await monitor.CheckAsync(() => { }, TimeSpan.FromSeconds(2))).Healthy);
        time.Now = ManualTime.At("10:01:00");
        monitor.Unregister(beat);
        Assert.True((await monitor.CheckAsync(() => { }, TimeSpan.FromSeconds(2))).Healthy);
    }

    [Fact]
    public async Task A_state_read_that_hangs_or_throws_is_not_alive()
    {
        var monitor = new LivenessMonitor(TimeProvider.System);
        using var never = new ManualResetEventSlim();
        var hung = await monitor.CheckAsync(() => never.Wait(TimeSpan.FromSeconds(5)), TimeSpan.FromMilliseconds(100));
        Assert.False(hung.Healthy);
        Assert.Contains("not readable within", hung.Reason, StringComparison.Ordinal);
        never.Set();
        var failed = await monitor.CheckAsync(() => throw new InvalidOperationException("table gone"), TimeSpan.FromSeconds(2));
        Assert.False(failed.Healthy);
        Assert.Contains("table gone", failed.Reason, StringComparison.Ordinal);
    }
}
