using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Export;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>The Adj-RIB-Out's pages of slots by prefix number.</summary>
public class PagedSlotsTests
{
    private static V4Slot Used(int number)
    {
        Assert.True(V4Slot.TryInline(Prefix.FromV4(0x0A00_0000u + ((uint)number << 8), 24), (uint)number + 1, 0, out var slot));
        return slot;
    }

    [Fact]
    public void A_new_page_reads_empty_even_where_it_reuses_the_memory_of_a_page_given_back()
    {
        using var slots = new PagedSlots<V4Slot>();
        const int size = PagedSlots<V4Slot>.PageSize;
        for (var round = 0; round < 8; round++)
        {
            // A page filled whole, then emptied: its memory goes back to the allocator, dirty.
            var full = round * 2 * size;
            for (var n = full; n < full + size; n++)
                slots.Put(n, Used(n));
            for (var n = full; n < full + size; n++)
                slots.Put(n, default);
            Assert.Equal(0, slots.Pages);

            // The next page made (likely in that memory) holds one slot; every other reads empty.
            var lone = full + size + (round * 37 % size);
            slots.Put(lone, Used(lone));
            var page = lone - (lone % size);
            for (var n = page; n < page + size; n++)
                Assert.Equal(n == lone, slots[n].IsUsed);
            Assert.Equal(Used(lone).Prefix, slots[lone].Prefix);
            slots.Put(lone, default);
        }
        Assert.Equal(0, slots.Count);
    }
}
