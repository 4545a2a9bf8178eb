namespace Calico.Bgp.Speaker.Export;

/// <summary>
/// The update groups of one daemon: BGP protocols given the same registry and having equal
/// <see cref="UpdateGroupKey"/>s share one group, so each UPDATE is encoded once for all of them.
/// </summary>
public sealed class UpdateGroupRegistry
{
    /// <summary>BIRD's socket buffers hold a few MiB; a member this far behind is resynced instead.</summary>
    public const int DefaultMaxPendingBytes = 4 << 20;

    private readonly Lock _lock = new();
    private readonly Dictionary<UpdateGroupKey, UpdateGroup> _groups = [];
    private long _encodedMessages;
    private long _resyncMessages;

    public UpdateGroupRegistry(int maxPendingBytes = DefaultMaxPendingBytes, int journalCapacity = Rib.RoutingTable.DefaultJournalCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPendingBytes, 4096);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(journalCapacity);
        MaxPendingBytes = maxPendingBytes;
        JournalCapacity = journalCapacity;
    }

    /// <summary>How many table changes a group may fall behind before it resyncs from the table.</summary>
    public int JournalCapacity { get; }

    /// <summary>Bytes a member may have queued before it is switched to resync from the group's table.</summary>
    public int MaxPendingBytes { get; }

    /// <summary>UPDATE messages encoded for groups (each written to every member of its group).</summary>
    public long EncodedMessages => Interlocked.Read(ref _encodedMessages);

    /// <summary>UPDATE messages encoded for one member alone (its initial feed, a route refresh, a resync).</summary>
    public long ResyncMessages => Interlocked.Read(ref _resyncMessages);

    public int GroupCount
    {
        get
        {
            lock (_lock)
                return _groups.Count;
        }
    }

    /// <summary>The members of each group, by protocol name (for <c>show</c> output and tests).</summary>
    public IReadOnlyList<IReadOnlyList<string>> Describe()
    {
        lock (_lock)
            return [.. _groups.Values.Select(g => g.MemberNames())];
    }

    internal void CountEncoded(int messages) => Interlocked.Add(ref _encodedMessages, messages);
    internal void CountResync(int messages) => Interlocked.Add(ref _resyncMessages, messages);

    /// <summary>Adds <paramref name="protocol"/> to the group of <paramref name="key"/>, creating it if needed.</summary>
    internal UpdateGroupMember Join(BgpProtocol protocol, UpdateGroupKey key)
    {
        lock (_lock)
        {
            if (!_groups.TryGetValue(key, out var group))
            {
                group = new UpdateGroup(this, key);
                _groups[key] = group;
                group.Start();
            }
            return group.Add(protocol);
        }
    }

    internal void Leave(UpdateGroupMember member)
    {
        UpdateGroup? emptied = null;
        lock (_lock)
        {
            var group = member.Group;
            if (group.Remove(member) == 0 && _groups.TryGetValue(group.Key, out var g) && ReferenceEquals(g, group))
            {
                _groups.Remove(group.Key);
                emptied = group;
            }
        }
        emptied?.Stop();
    }
}
