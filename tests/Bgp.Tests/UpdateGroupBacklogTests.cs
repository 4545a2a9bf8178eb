using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Export;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>A member's queue and its writer's batch give back the room a backlog made, and keep it for steady churn.</summary>
public class UpdateGroupBacklogTests
{
    private static UpdateGroupMember Member() => GroupMembers.Join(new RoutingTable(), new UpdateGroupRegistry());

    [Fact]
    public async Task A_drained_backlog_gives_its_room_back_and_a_small_batch_keeps_it()
    {
        var member = Member();
        var batch = new List<ReadOnlyMemory<byte>>();
        // The group's first pass gives a new member its (empty) table and End-of-RIB: taken first, so
        // what follows is only what the test queues.
        using (var first = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
            await member.TakeAsync(batch, first.Token);
        Assert.NotEmpty(batch);
        UpdateGroupMember.Recycle(batch);
        var chunk = new byte[64];
        for (var i = 0; i < 5_000; i++)
            member.EnqueueAlways(chunk);
        Assert.True(member.QueueCapacity >= 5_000);

        await member.TakeAsync(batch, CancellationToken.None);
        Assert.Equal(5_000, batch.Count);
        Assert.True(member.QueueCapacity <= UpdateGroupMember.KeptCapacity, $"queue kept room for {member.QueueCapacity}");
        Assert.True(batch.Capacity >= 5_000);
        UpdateGroupMember.Recycle(batch);
        Assert.Empty(batch);
        Assert.Equal(UpdateGroupMember.KeptCapacity, batch.Capacity);

        // Steady churn's batches fit in what is kept: nothing is given back, nothing made again.
        for (var i = 0; i < 100; i++)
            member.EnqueueAlways(chunk);
        var room = member.QueueCapacity;
        await member.TakeAsync(batch, CancellationToken.None);
        Assert.Equal(100, batch.Count);
        Assert.Equal(room, member.QueueCapacity);
        UpdateGroupMember.Recycle(batch);
        Assert.Equal(UpdateGroupMember.KeptCapacity, batch.Capacity);
    }
}
