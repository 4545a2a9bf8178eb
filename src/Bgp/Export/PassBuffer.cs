using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Calico.Bgp.Speaker.Export;

/// <summary>
/// The bytes of one export pass (<see cref="UpdateGroup"/>'s Emit), shared by the slices its members
/// queue, and reused once every slice is sent: the queued slices hold a count, and the writer that
/// sent one gives it back (<see cref="Release(ReadOnlyMemory{byte})"/>). A slice never given back (a
/// member that left, a send that failed) only keeps its buffer out of the pool: the GC takes it.
/// </summary>
/// <remarks>
/// A fresh array per pass was most of what a table's export allocated (4,096 changes a pass, ~20 KB
/// of UPDATEs; at a million routes ~5 MB of new memory the GC zeroed and the kernel faulted in, 3 % of
/// P1's samples; bench/RESULTS-perf.md, twenty-first round). The arrays are pinned (the pinned object
/// heap), so <see cref="Pin"/> costs nothing and the GC never moves them.
/// </remarks>
internal sealed class PassBuffer : MemoryManager<byte>
{
    /// <summary>The smallest array made; passes of a few changes (churn) share the size.</summary>
    private const int MinCapacity = 4096;

    /// <summary>
    /// Larger passes (a reflector's pass of many clients' attribute sets, a whole-table resync) get a
    /// plain array of their own, which the GC takes when sent: kept, they would hold their size for good,
    /// and pinned ones are freed only by a full collection.
    /// </summary>
    internal const int MaxPooledCapacity = 64 * 1024;

    /// <summary>Buffers the pool keeps (at most 512 KiB): a pass's slices are mostly all sent before the next pass.</summary>
    private const int PoolLimit = 8;

    // The pool: the first _pooled entries; order does not matter.
    private static readonly PassBuffer?[] Pool = new PassBuffer?[PoolLimit];
    private static readonly Lock PoolLock = new();
    private static int _pooled;

    private readonly byte[] _array;
    private int _length;
    // The slices queued and not given back, plus one held by the pass while it queues them.
    private int _references;

    private PassBuffer(int capacity) =>
        _array = GC.AllocateUninitializedArray<byte>(capacity, pinned: true);

    /// <summary>
    /// A copy of <paramref name="bytes"/> to queue slices of: in a pooled buffer held once by the caller
    /// (<paramref name="held"/>, given back with <see cref="Release()"/> once the slices are queued), or
    /// above <see cref="MaxPooledCapacity"/> in a plain array (<paramref name="held"/> null).
    /// </summary>
    public static ReadOnlyMemory<byte> Share(ReadOnlySpan<byte> bytes, out PassBuffer? held)
    {
        if (bytes.Length > MaxPooledCapacity)
        {
            held = null;
            return bytes.ToArray();
        }
        PassBuffer? buffer = null;
        lock (PoolLock)
        {
            // The pool is small: the last given back that fits (mostly one size; the warmest in the
            // caches), the top moved to its place.
            for (var i = _pooled - 1; i >= 0; i--)
            {
                if (Pool[i]!._array.Length >= bytes.Length)
                {
                    buffer = Pool[i];
                    Pool[i] = Pool[--_pooled];
                    Pool[_pooled] = null;
                    break;
                }
            }
        }
        buffer ??= new PassBuffer(Math.Max(MinCapacity, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)bytes.Length)));
        bytes.CopyTo(buffer._array);
        buffer._length = bytes.Length;
        buffer._references = 1;
        held = buffer;
        return buffer.Memory;
    }

    /// <summary>Holds on this buffer now: the pass's and its queued slices' (tests).</summary>
    internal int References => Volatile.Read(ref _references);

    /// <summary>Counts one more slice of this buffer queued.</summary>
    public void Retain() => Interlocked.Increment(ref _references);

    /// <summary>Gives back one hold; the last one returns the buffer to the pool.</summary>
    public void Release()
    {
        var left = Interlocked.Decrement(ref _references);
        if (left > 0)
            return;
        if (left < 0)
            throw new InvalidOperationException("a pass buffer was given back more often than it was held");
        lock (PoolLock)
        {
            if (_pooled < PoolLimit)
                Pool[_pooled++] = this;
        }
    }

    /// <summary>Counts one more queued slice when <paramref name="slice"/> is a pass buffer's; nothing for other bytes.</summary>
    public static void Retain(ReadOnlyMemory<byte> slice)
    {
        if (MemoryMarshal.TryGetMemoryManager<byte, PassBuffer>(slice, out var buffer))
            buffer.Retain();
    }

    /// <summary>Gives back a sent slice's hold when <paramref name="slice"/> is a pass buffer's; nothing for other bytes.</summary>
    public static void Release(ReadOnlyMemory<byte> slice)
    {
        if (MemoryMarshal.TryGetMemoryManager<byte, PassBuffer>(slice, out var buffer))
            buffer.Release();
    }

    public override Span<byte> GetSpan() => _array.AsSpan(0, _length);

    public override unsafe MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)elementIndex, (uint)_length, nameof(elementIndex));
        // Pinned at birth: the address stays.
        return new MemoryHandle((byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_array)) + elementIndex);
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }
}
