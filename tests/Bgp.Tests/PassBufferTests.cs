using System.Runtime.InteropServices;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Export;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>A pass's bytes are reused only once every member that queued a slice of them has sent it.</summary>
public class PassBufferTests
{
    private static async Task<List<ReadOnlyMemory<byte>>> TakeAsync(UpdateGroupMember member)
    {
        var batch = new List<ReadOnlyMemory<byte>>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await member.TakeAsync(batch, timeout.Token);
        return batch;
    }

    private static byte[] Concat(List<ReadOnlyMemory<byte>> chunks) => [.. chunks.SelectMany(c => c.ToArray())];

    [Fact]
    public async Task A_slow_member_keeps_its_slices_intact_while_a_fast_one_sends_and_the_passes_go_on()
    {
        var table = new RoutingTable();
        var registry = new UpdateGroupRegistry();
        var fast = GroupMembers.Join(table, registry, "fast", "127.0.0.2");
        var slow = GroupMembers.Join(table, registry, "slow", "127.0.0.3");
        Assert.Same(fast.Group, slow.Group);
        // Each member's first feed (an empty table and End-of-RIB) is its own, not a pass's.
        UpdateGroupMember.Recycle(await TakeAsync(fast));
        UpdateGroupMember.Recycle(await TakeAsync(slow));

        // A pass per route: the fast member sends each before the next route comes, so every pass
        // after the first could reuse a buffer the fast member gave back, if the slow one's slices
        // did not hold theirs.
        var stat = new TestStatic(table);
        var sent = new List<byte>();
        var passBuffers = new HashSet<PassBuffer>();
        for (var i = 0; i < 50; i++)
        {
            stat.AddBlackhole($"10.{i}.0.0/16");
            var batch = await TakeAsync(fast);
            Assert.NotEmpty(batch);
            foreach (var chunk in batch)
            {
                Assert.True(MemoryMarshal.TryGetMemoryManager<byte, PassBuffer>(chunk, out var owner));
                passBuffers.Add(owner);
            }
            sent.AddRange(Concat(batch));
            UpdateGroupMember.Recycle(batch);
        }

        var held = await TakeAsync(slow);
        Assert.Equal(50, held.Count);
        Assert.Equal(sent, Concat(held));
        // Every buffer the slices name is held by the slow member's slices alone now.
        var holds = new Dictionary<PassBuffer, int>();
        foreach (var chunk in held)
        {
            Assert.True(MemoryMarshal.TryGetMemoryManager<byte, PassBuffer>(chunk, out var owner));
            holds[owner] = holds.GetValueOrDefault(owner) + 1;
        }
        Assert.Equal(50, holds.Values.Sum());
        Assert.Equal(passBuffers.Count, holds.Count);
        foreach (var (buffer, count) in holds)
            Assert.Equal(count, buffer.References);

        UpdateGroupMember.Recycle(held);
        foreach (var buffer in holds.Keys)
            Assert.Equal(0, buffer.References);
    }

    [Fact]
    public void A_released_buffer_is_shared_again()
    {
        // Other tests' passes use the pool too: among many rounds one gets back its own buffer.
        var reused = 0;
        var bytes = new byte[3000];
        for (var i = 0; i < 200; i++)
        {
            bytes[0] = (byte)i;
            var first = PassBuffer.Share(bytes, out var a);
            Assert.NotNull(a);
            Assert.Equal(bytes, first.ToArray());
            a.Release();
            PassBuffer.Share(bytes, out var b);
            Assert.NotNull(b);
            reused += ReferenceEquals(a, b) ? 1 : 0;
            b.Release();
        }
        Assert.True(reused > 0, "no buffer came back from the pool");
    }

    [Fact]
    public void A_large_pass_gets_a_plain_array_and_releasing_other_bytes_does_nothing()
    {
        var large = new byte[PassBuffer.MaxPooledCapacity + 1];
        large[^1] = 7;
        var shared = PassBuffer.Share(large, out var held);
        Assert.Null(held);
        Assert.False(MemoryMarshal.TryGetMemoryManager<byte, PassBuffer>(shared, out _));
        Assert.Equal(large, shared.ToArray());
        PassBuffer.Release(shared);
        PassBuffer.Retain(new byte[8]);
    }

    [Fact]
    public void Holds_are_counted_and_one_release_too_many_is_refused()
    {
        var slice = PassBuffer.Share(new byte[100], out var held);
        Assert.NotNull(held);
        Assert.Equal(100, slice.Length);
        PassBuffer.Retain(slice[10..20]);
        Assert.Equal(2, held.References);
        held.Release();
        PassBuffer.Release(slice[10..20]);
        Assert.Equal(0, held.References);
        Assert.Throws<InvalidOperationException>(held.Release);
    }
}
