namespace Calico.Bgp.Speaker.Export;

/// <summary>
/// Small numbers for a few long-lived values that hold references (the <see cref="PathKind"/>s an
/// Adj-RIB-Out holds), counted by use: a slot keeps the number, not the references, so the big slot
/// array holds no references at all and the GC neither marks through it nor scans its cards. A number
/// is given back, and may be handed out again, when its last use is released. One writer.
/// </summary>
/// <remarks>The default value of <typeparamref name="T"/> is never numbered (the kinds' default has no source).</remarks>
internal sealed class RefIndex<T> where T : struct, IEquatable<T>
{
    private T[] _items = new T[4];
    private int[] _uses = new int[4];
    // Numbers given back: each free entry holds the next free one (−1 ends the list).
    private int _freeHead = -1;
    private int _next;
    private readonly Dictionary<T, int> _numbers = [];
    // The last answer: consecutive slots mostly share a path kind (one UPDATE's prefixes).
    private T _last;
    private int _lastNumber = -1;

    /// <summary>Values with a number now.</summary>
    public int Count => _numbers.Count;

    /// <summary>The number of <paramref name="item"/>, counted as one more use.</summary>
    public uint Acquire(in T item)
    {
        int n;
        if (_lastNumber >= 0 && item.Equals(_last))
            n = _lastNumber;
        else
        {
            if (item.Equals(default))
                throw new ArgumentException("the default value has no number", nameof(item));
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
        var item = _items[n];
        _numbers.Remove(item);
        _items[n] = default;
        _uses[n] = _freeHead;
        _freeHead = n;
        if (n == _lastNumber)
        {
            _last = default;
            _lastNumber = -1;
        }
    }

    public ref readonly T this[uint number] => ref _items[number];

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
