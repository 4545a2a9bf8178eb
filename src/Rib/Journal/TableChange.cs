namespace Calico.Bgp.Rib;

/// <summary>
/// One change of a table as its journal records it: the entry the prefix has from now on (empty when
/// its last route went) and the prefix's number. The entry is the whole state of the prefix, not a
/// delta, so applying any run of changes in order ends in the table's state.
/// </summary>
public readonly struct TableChange
{
    internal TableChange(RouteEntry entry, int number)
    {
        Entry = entry;
        Number = number;
    }

    /// <summary>Every route of the prefix after the change, best first; <see cref="RouteEntry.IsEmpty"/> for a removal.</summary>
    public RouteEntry Entry { get; }


    public Prefix Prefix => Entry.Prefix;

    /// <summary>
    /// The prefix's number in its table: small and dense, the same for as long as the table knows the
    /// prefix, and another prefix's only after the table has forgotten this one (see the table's map).
    /// An exporter indexes its own per-prefix state by it. -1 for a removal of a prefix the table did not have.
    /// </summary>
    public int Number { get; }

    /// <summary>The best route after the change, or null when the prefix is gone.</summary>
    public Route? NewBest => Entry.Best;

    /// <summary>The table version of the change; consecutive changes have consecutive versions.</summary>
    public long Version => Entry.Version;


    public override string ToString() => $"{Prefix} #{Number} v{Version}: {NewBest?.Protocol.Name ?? "-"}";
}
