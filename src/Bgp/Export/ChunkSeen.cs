using Calico.Bgp.Rib;

namespace Calico.Bgp.Speaker.Export;

/// <summary>
/// The prefixes already brought up to date in one chunk of journal changes: a fixed open-addressed
/// set of positions in the chunk, keyed by <see cref="AdjRibOut.Hash"/>. A new chunk bumps a stamp
/// instead of clearing, and nothing is allocated per change (a <c>HashSet&lt;Prefix&gt;</c> was 5% of
/// the export side's samples).
/// </summary>
internal sealed class ChunkSeen
{
    private readonly int[] _stamp;
    private readonly int[] _hash;
    private readonly int[] _position;
    private int _current = 1;

    /// <param name="chunkSize">Most changes in one chunk; the set keeps at least twice as many slots.</param>
    public ChunkSeen(int chunkSize)
    {
        var size = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)chunkSize * 2);
        _stamp = new int[size];
        _hash = new int[size];
        _position = new int[size];
    }

    /// <summary>Starts a chunk: forgets every prefix.</summary>
    public void Clear()
    {
        if (++_current == int.MaxValue)
        {
            Array.Clear(_stamp);
            _current = 1;
        }
    }

    /// <summary>
    /// Adds the prefix of <paramref name="changes"/>[<paramref name="position"/>]; false when a change
    /// of the same prefix was added since <see cref="Clear"/>.
    /// </summary>
    public bool Add(ReadOnlySpan<TableChange> changes, int position, in Prefix prefix, int hash)
    {
        var mask = _stamp.Length - 1;
        var i = hash & mask;
        while (_stamp[i] == _current)
        {
            if (_hash[i] == hash && changes[_position[i]].Entry.Prefix.Equals(prefix))
                return false;
            i = (i + 1) & mask;
        }
        _stamp[i] = _current;
        _hash[i] = hash;
        _position[i] = position;
        return true;
    }
}
