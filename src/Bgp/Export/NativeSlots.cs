using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Calico.Bgp.Speaker.Export;

/// <summary>
/// A zeroed array of <typeparamref name="T"/> outside the GC heap, for the Adj-RIB-Out's slots (which
/// hold no references). A million-prefix array in the GC heap is a large object: each growth spent
/// the large-object budget and set off a full collection that marked every route in the table
/// (bench/RESULTS-perf.md, sixth and seventh rounds); here the GC never sees it. Freed by
/// <see cref="Dispose"/> when a bigger array replaces it (one writer, under the group's lock) or by
/// the finalizer once the group is gone.
/// </summary>
internal sealed unsafe class NativeSlots<T> : IDisposable where T : unmanaged
{
    private T* _items;

    public NativeSlots(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        _items = (T*)NativeMemory.AllocZeroed((nuint)length, (nuint)sizeof(T));
        Length = length;
    }

    public int Length { get; }

    public ref T this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if ((uint)index >= (uint)Length)
                ThrowIndex();
            return ref _items[index];
        }
    }

    public Span<T> AsSpan() => new(_items, Length);

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    ~NativeSlots() => Free();

    private void Free()
    {
        if (_items is null)
            return;
        NativeMemory.Free(_items);
        _items = null;
    }

    private static void ThrowIndex() => throw new IndexOutOfRangeException();
}
