using Calico.Bgp.Rib;

namespace Calico.Bgp.Fib.Tests;

/// <summary>
/// Holds the kernel protocol's first write (its initial feed) until a burst of a full journal batch
/// is in the table, so the loop's next read takes one full batch: the set-up of the tests about
/// where and when a batch is written. Wire <see cref="BeforeWriteAsync"/> into
/// <see cref="FakeRouteNetlink.BeforeWrite"/>, start the protocol, then <see cref="BurstAsync"/>.
/// </summary>
internal sealed class HeldInitialFeed
{
    /// <summary>The protocol's journal batch.</summary>
    public const int Batch = 4096;

    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _writes;

    /// <summary>For <see cref="FakeRouteNetlink.BeforeWrite"/>: the first write waits until the burst is in.</summary>
    public async Task BeforeWriteAsync()
    {
        if (Interlocked.Increment(ref _writes) == 1)
        {
            _reached.TrySetResult();
            await _held.Task;
        }
    }

    /// <summary>Once the first write is held, puts <see cref="Batch"/> routes (10.x.y.0/24) in the table, then lets the write go on.</summary>
    public async Task BurstAsync(RoutingTable table, Protocol owner, TimeSpan timeout)
    {
        await _reached.Task.WaitAsync(timeout);
        for (var i = 0; i < Batch; i++)
            table.Update(TestRoutes.Bgp(table, owner, $"10.{i / 256}.{i % 256}.0/24", "172.16.0.2"));
        Release();
    }

    /// <summary>Lets the held write go on (also in a test's cleanup, so a failed test does not leave the loop waiting).</summary>
    public void Release() => _held.TrySetResult();
}
