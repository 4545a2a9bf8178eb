using System.Threading.Channels;

namespace Calico.Bgp.Rib;

/// <summary>
/// An exporter's view of table changes: the set of prefixes changed since it last looked. The
/// writer only adds a prefix to a set (bounded by the number of prefixes, so never an unbounded
/// queue, and churn on one prefix coalesces); the exporter drains the set and reads each prefix's
/// current entry from the table.
/// </summary>
public sealed class TableSubscription : IDisposable
{
    private readonly RoutingTable _table;
    private readonly Lock _lock = new();
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });
    private HashSet<Prefix> _dirty = [];

    internal TableSubscription(RoutingTable table, string consumer)
    {
        _table = table;
        Consumer = consumer;
    }

    public string Consumer { get; }
    public RoutingTable Table => _table;

    /// <summary>Prefixes waiting to be looked at.</summary>
    public int Pending
    {
        get
        {
            lock (_lock)
                return _dirty.Count;
        }
    }

    internal void MarkDirty(Prefix prefix)
    {
        bool first;
        lock (_lock)
            first = _dirty.Add(prefix) && _dirty.Count == 1;
        if (first)
            _signal.Writer.TryWrite(true);
    }

    /// <summary>
    /// Waits until something changed, then hands over the changed prefixes. The caller owns the
    /// returned set; passing it back as <paramref name="recycle"/> on the next call reuses it.
    /// </summary>
    public async ValueTask<HashSet<Prefix>> WaitAsync(HashSet<Prefix>? recycle, CancellationToken cancellationToken)
    {
        while (true)
        {
            var taken = TryTake(recycle);
            if (taken is not null)
                return taken;
            await _signal.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Takes the changed prefixes without waiting; null when there are none.</summary>
    public HashSet<Prefix>? TryTake(HashSet<Prefix>? recycle)
    {
        lock (_lock)
        {
            if (_dirty.Count == 0)
                return null;
            var taken = _dirty;
            recycle?.Clear();
            _dirty = recycle ?? [];
            return taken;
        }
    }

    public void Dispose() => _table.Unsubscribe(this);
}
