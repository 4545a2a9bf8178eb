namespace Calico.Bgp.Speaker.Export;

/// <summary>
/// The prefix numbers (<see cref="Rib.TableChange.Number"/>) already brought up to date in one chunk
/// of journal changes: a fixed open-addressed set. A new chunk bumps a stamp instead of clearing, and
/// nothing is allocated per change (a <c>HashSet&lt;Prefix&gt;</c> was 5% of the export side's samples).
/// </summary>
/// <remarks>
/// Keyed by number, not prefix: a number taken over by another prefix within the chunk (the table
/// forgot the first one) is brought once, for its newest holder, which withdraws the old one
/// (<see cref="UpdateGroup"/>'s eviction).
/// </remarks>
internal sealed class ChunkSeen
{
    private readonly int[] _stamp;
    private readonly int[] _number;
    private readonly int _shift;
    private int _current = 1;

    /// <param name="chunkSize">Most changes in one chunk; the set keeps at least twice as many slots.</param>
    public ChunkSeen(int chunkSize)
    {
        var size = System.Numerics.BitOperations.RoundUpToPowerOf2((uint)chunkSize * 2);
        _stamp = new int[size];
        _number = new int[size];
        _shift = 32 - System.Numerics.BitOperations.Log2(size);
    }

    /// <summary>Starts a chunk: forgets every number.</summary>
    public void Clear()
    {
        if (++_current == int.MaxValue)
        {
            Array.Clear(_stamp);
            _current = 1;
        }
    }

    /// <summary>Adds <paramref name="number"/>; false when it was added since <see cref="Clear"/>.</summary>
    public bool Add(int number)
    {
        var mask = _stamp.Length - 1;
        // Fibonacci hashing: consecutive numbers (a table arriving in order) spread over the set.
        var i = (int)(((uint)number * 0x9E3779B9u) >> _shift);
        while (_stamp[i] == _current)
        {
            if (_number[i] == number)
                return false;
            i = (i + 1) & mask;
        }
        _stamp[i] = _current;
        _number[i] = number;
        return true;
    }
}
