using System.Runtime.CompilerServices;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Speaker.Export;

/// <summary>
/// NLRI that go in the same messages: withdrawal or announcement, family, attributes, and the
/// members they go to (all but <paramref name="Except"/>, or <paramref name="Only"/> that one).
/// </summary>
internal readonly record struct BatchKey(bool Withdraw, bool V6, PathAttributes? Attributes, Protocol? Except, Protocol? Only)
{
    public bool Targets(UpdateGroupMember m) => Only is { } o ? ReferenceEquals(m.Protocol, o) : !ReferenceEquals(m.Protocol, Except);

    /// <summary>Interned attribute sets and protocols compare by reference (a set's value hash walks every field).</summary>
    // Inlined by request: the AOT compiler, without a call site to weigh, left it a call per prefix added.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Same(in BatchKey other) =>
        Withdraw == other.Withdraw && V6 == other.V6 && ReferenceEquals(Attributes, other.Attributes)
        && ReferenceEquals(Except, other.Except) && ReferenceEquals(Only, other.Only);
}

/// <summary>
/// One pass's UPDATE batches, in the order they were first added, reused from pass to pass. Runs of
/// prefixes share a key (a peer's UPDATE puts many prefixes behind one attribute set), so the last
/// key is checked first and the key's hash is taken once per run, not per prefix.
/// </summary>
internal sealed class UpdateBatches
{
    /// <summary>A list grown past this by a large pass (a resync of the whole table) is dropped afterwards, not kept.</summary>
    private const int KeepCapacity = 16 * 1024;

    private readonly Dictionary<BatchKey, int> _index = new(KeyComparer.Instance);
    private readonly List<BatchKey> _keys = [];
    private readonly List<List<Nlri>> _lists = [];
    private int _last = -1;

    public int Count => _keys.Count;

    public BatchKey KeyAt(int i) => _keys[i];

    public List<Nlri> NlriAt(int i) => _lists[i];

    public void Add(in BatchKey key, Nlri nlri)
    {
        if (_last < 0 || !_keys[_last].Same(key))
        {
            if (!_index.TryGetValue(key, out _last))
            {
                _last = _keys.Count;
                _index[key] = _last;
                _keys.Add(key);
                if (_lists.Count == _last)
                    _lists.Add([]);
            }
        }
        _lists[_last].Add(nlri);
    }

    /// <summary>Forgets the pass's batches (and the attribute sets and protocols they held).</summary>
    public void Clear()
    {
        for (var i = 0; i < _keys.Count; i++)
        {
            if (_lists[i].Capacity > KeepCapacity)
                _lists[i] = [];
            else
                _lists[i].Clear();
        }
        _keys.Clear();
        _index.Clear();
        _last = -1;
    }

    private sealed class KeyComparer : IEqualityComparer<BatchKey>
    {
        public static readonly KeyComparer Instance = new();

        public bool Equals(BatchKey x, BatchKey y) => x.Same(y);

        public int GetHashCode(BatchKey k) => HashCode.Combine(
            k.Withdraw,
            k.V6,
            k.Attributes is null ? 0 : RuntimeHelpers.GetHashCode(k.Attributes),
            k.Except is null ? 0 : RuntimeHelpers.GetHashCode(k.Except),
            k.Only is null ? 0 : RuntimeHelpers.GetHashCode(k.Only));
    }
}
