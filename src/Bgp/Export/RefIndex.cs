namespace Calico.Bgp.Speaker.Export;

/// <summary>
/// Small numbers for a few long-lived objects (the source protocols and the interned attribute sets an
/// Adj-RIB-Out holds), counted by use: a slot keeps the number, not the reference, so the big slot
/// array holds no references at all and the GC neither marks through it nor scans its cards. A number
/// is given back, and may be handed out again, when its last use is released. One writer.
/// </summary>
internal sealed class RefIndex<T> where T : class
{
    private T?[] _items = new T?[4];
    private int[] _uses = new int[4];
    // Numbers given back: each free entry holds the next free one (−1 ends the list).
    private int _freeHead = -1;
    private int _next;
    private readonly Dictionary<T, int> _numbers = new(ReferenceEqualityComparer.Instance);
    // The last answer: consecutive slots mostly share a source and a set (one UPDATE's prefixes).
    private T? _last;
    private int _lastNumber;

    /// <summary>Objects with a number now.</summary>
    public int Count => _numbers.Count;

    /// <summary>The number of <paramref name="item"/>, counted as one more use.</summary>
    public uint Acquire(T item)
    {
        int n;
        if (ReferenceEquals(item, _last))
            n = _lastNumber;
        else
        {
            if (!_numbers.TryGetValue(item, out n))
            {
                n = Allocate();
                _items[n] = item;
                _numbers.Add(item, n);
            }
            _last = item;
            _lastNumber = n;
        }
        _uses[n]++;
        return (uint)n;
    }

    /// <summary>One use of number <paramref name="number"/> fewer; its last frees it.</summary>
    public void Release(uint number)
    {
        var n = (int)number;
        if (--_uses[n] > 0)
            return;
        var item = _items[n]!;
        _numbers.Remove(item);
        _items[n] = null;
        _uses[n] = _freeHead;
        _freeHead = n;
        if (ReferenceEquals(item, _last))
            _last = null;
    }

    public T this[uint number] => _items[number]!;

    private int Allocate()
    {
        if (_freeHead >= 0)
        {
            var n = _freeHead;
            _freeHead = _uses[n];
            _uses[n] = 0;
            return n;
        }
        if (_next == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
            Array.Resize(ref _uses, _uses.Length * 2);
        }
        return _next++;
    }
}
