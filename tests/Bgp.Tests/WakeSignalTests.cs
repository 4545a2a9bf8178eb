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
    public async Task A_set_during_the_wait_completes_it_off_the_setters_thread()
    {
        var signal = new WakeSignal();
        var setter = Environment.CurrentManagedThreadId;
        var wait = Waiter(signal);
        Assert.False(wait.IsCompleted);
        signal.Set();
        var ranOn = await wait.WaitAsync(Long);
        Assert.NotEqual(setter, ranOn);
        // And the signal is spent: the next wait waits.
        Assert.False(signal.WaitAsync().IsCompleted);
    }

    private static async Task<int> Waiter(WakeSignal signal)
    {
        await signal.WaitAsync();
        return Environment.CurrentManagedThreadId;
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
