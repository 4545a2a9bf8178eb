namespace Calico.Bgp.Rib;

/// <summary>
/// One change of a table as its journal records it: the entry the prefix has from now on (empty when
/// its last route went) and the prefix's number. The entry is the whole state of the prefix, not a
/// delta, so applying any run of changes in order ends in the table's state.
/// </summary>
/// <remarks>
/// A removal in bulk (a peer's routes withdrawn at once) is recorded by the prefix's last entry, not
/// by an empty entry of its own: <see cref="IsRemoval"/> says so, <see cref="Prefix"/> and
/// <see cref="Version"/> are the removal's, and <see cref="NewEntry"/> is null. Readers that apply
/// many changes should take <see cref="NewEntry"/>; <see cref="Entry"/> makes an empty entry for
/// such a removal at each call.
/// </remarks>
public readonly struct TableChange
{
    // The new entry, or the prefix's last entry for a removal in bulk.
    private readonly RouteEntry _entry;
    private readonly long _version;

    /// <summary>
    /// The change <paramref name="version"/>: the prefix's new entry, or for a <paramref name="removal"/>
    /// its empty entry or (a removal in bulk) its last one.
    /// </summary>
    internal TableChange(RouteEntry entry, int number, long version, bool removal)
    {
        _entry = entry;
        _version = version;
        Number = number;
        IsRemoval = removal;
    }

    /// <summary>Every route of the prefix after the change, best first; <see cref="RouteEntry.IsEmpty"/> for a removal.</summary>
    public RouteEntry Entry => IsRemoval ? _entry as EmptyRouteEntry ?? new EmptyRouteEntry(_entry.Prefix, _version) : _entry;

    /// <summary>The prefix's entry after the change, or null when the change removed it (allocates nothing).</summary>
    public RouteEntry? NewEntry => IsRemoval ? null : _entry;

    /// <summary>Whether the change removed the prefix's last route.</summary>
    public bool IsRemoval { get; }

    public Prefix Prefix => _entry.Prefix;

    /// <summary>
    /// The prefix's number in its table: small and dense, the same for as long as the table knows the
    /// prefix, and another prefix's only after the table has forgotten this one (see the table's map).
    /// An exporter indexes its own per-prefix state by it. -1 for a removal of a prefix the table did not have.
    /// </summary>
    public int Number { get; }

    /// <summary>The best route after the change, or null when the prefix is gone.</summary>
    public Route? NewBest => IsRemoval ? null : _entry.Best;

    /// <summary>The table version of the change; consecutive changes have consecutive versions.</summary>
    public long Version => _version;

    public override string ToString() => $"{Prefix} #{Number} v{Version}: {NewBest?.Protocol.Name ?? "-"}";
}
