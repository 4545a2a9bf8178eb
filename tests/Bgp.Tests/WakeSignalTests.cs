using Calico.Bgp.Speaker.Export;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>The member writer's wake-up: set before or during a wait, several sets as one, one waiter.</summary>
public class WakeSignalTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(10);

    [Fact]
    public void A_set_before_the_wait_lets_it_return_at_once_and_only_that_one()
    {
        var signal = new WakeSignal();
        signal.Set();
        signal.Set();
        Assert.True(signal.WaitAsync().IsCompletedSuccessfully);
        // The two sets counted as one.
        Assert.False(signal.WaitAsync().IsCompleted);
    }

    [Fact]
    public async Task A_set_during_the_wait_completes_it_but_never_runs_the_waiter_inside_the_set()
    {
        // The setter holds a lock while it sets (as the group's pass holds its own): a waiter run
        // inline would run inside it, on the setter's thread, and find the lock held by its thread.
        var signal = new WakeSignal();
        var setterLock = new object();
        var wait = Waiter(signal, setterLock);
        Assert.False(wait.IsCompleted);
        lock (setterLock)
            signal.Set();
        Assert.False(await wait.WaitAsync(Long));
        // And the signal is spent: the next wait waits.
        Assert.False(signal.WaitAsync().IsCompleted);
    }

    /// <summary>Whether the waiter ran while its thread held <paramref name="setterLock"/>, i.e. inside the set.</summary>
    private static async Task<bool> Waiter(WakeSignal signal, object setterLock)
    {
        // Not posted to the test framework's context: the signal alone decides where the waiter runs.
        await signal.WaitAsync().ConfigureAwait(false);
        return Monitor.IsEntered(setterLock);
    }

    [Fact]
    public void A_second_waiter_at_the_same_time_is_refused()
    {
        var signal = new WakeSignal();
        _ = signal.WaitAsync();
        Assert.Throws<InvalidOperationException>(() => signal.WaitAsync());
    }

    [Fact]
    public async Task No_set_is_lost_between_a_waiter_and_a_setter_racing()
    {
        // Each round the setter sets once after the waiter announced it is about to wait; a lost set
        // would leave the waiter stuck and the round never finishing.
        var signal = new WakeSignal();
        const int rounds = 20_000;
        var ready = new SemaphoreSlim(0);
        var waiter = Task.Run(async () =>
        {
            for (var i = 0; i < rounds; i++)
            {
                ready.Release();
                await signal.WaitAsync();
            }
        });
        var setter = Task.Run(async () =>
        {
            for (var i = 0; i < rounds; i++)
            {
                await ready.WaitAsync();
                signal.Set();
            }
        });
        await Task.WhenAll(waiter, setter).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(waiter.IsCompletedSuccessfully);
    }
}
