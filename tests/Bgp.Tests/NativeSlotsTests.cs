using Calico.Bgp.Speaker.Export;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>The Adj-RIB-Out's arrays outside the GC heap: zeroed, writable end to end, bounds checked.</summary>
public class NativeSlotsTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(16)]
    [InlineData((3 << 20) + 5)]
    public void An_array_starts_zeroed_and_keeps_what_is_written_at_both_ends(int length)
    {
        using var slots = new NativeSlots<long>(length);
        Assert.Equal(length, slots.Length);
        Assert.True(slots.AsSpan().IndexOfAnyExcept(0L) < 0, "not zeroed");
        slots[length - 1] = 42;
        slots[length / 2] = 7;
        slots[0] = -1;
        Assert.Equal(-1, slots[0]);
        Assert.Equal(length == 1 ? -1 : 42, slots[length - 1]);
        Assert.Equal(length == 1 ? -1 : 7, slots.AsSpan()[length / 2]);
        Assert.Throws<IndexOutOfRangeException>(() => slots[length]);
        Assert.Throws<IndexOutOfRangeException>(() => slots[-1]);
    }
}
