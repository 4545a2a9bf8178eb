using System.Collections.Frozen;
using System.Collections.Immutable;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Fib.Interfaces;

/// <summary>One interface with its addresses, as <c>show interfaces</c> prints it.</summary>
public sealed record InterfaceState(int Index, string Name, string Kind, uint Flags, uint Mtu, ImmutableArray<AddressInfo> Addresses)
{
    /// <summary>Administratively up (IFF_UP).</summary>
    public bool IsUp => (Flags & Rtnl.IffUp) != 0;
    /// <summary>Carrier present (IFF_LOWER_UP).</summary>
    public bool IsLinkUp => (Flags & Rtnl.IffLowerUp) != 0;
    public bool IsLoopback => (Flags & Rtnl.IffLoopback) != 0;
}

/// <summary>
/// An immutable picture of the interfaces and their addresses, read from RTM_GETLINK and
/// RTM_GETADDR dumps. Published whole, so readers never see a half-updated list.
/// </summary>
public sealed class InterfaceSnapshot
{
    public static readonly InterfaceSnapshot Empty = new([]);

    private readonly FrozenDictionary<string, InterfaceState> _byName;
    // Interface index → its place in Interfaces.
    private readonly FrozenDictionary<int, int> _positions;

    public InterfaceSnapshot(ImmutableArray<InterfaceState> interfaces)
    {
        Interfaces = interfaces;
        _byName = interfaces.DistinctBy(i => i.Name).ToFrozenDictionary(i => i.Name, StringComparer.Ordinal);
        _positions = Enumerable.Range(0, interfaces.Length).ToFrozenDictionary(i => interfaces[i].Index);
    }

    /// <summary>By index, as the kernel lists them.</summary>
    public ImmutableArray<InterfaceState> Interfaces { get; }

    public InterfaceState? ByName(string name) => _byName.GetValueOrDefault(name);
    public InterfaceState? ByIndex(int index) => _positions.TryGetValue(index, out var i) ? Interfaces[i] : null;

    /// <summary>The place in <see cref="Interfaces"/> of the interface numbered <paramref name="index"/>, or -1.</summary>
    internal int PositionOf(int index) => _positions.TryGetValue(index, out var i) ? i : -1;

    /// <summary>
    /// Whether <paramref name="other"/> has the same interfaces by index and name: all that maps a
    /// route's device name to an index and back (the kernel protocol's routes) is then the same.
    /// </summary>
    public bool SameIndexesAndNames(InterfaceSnapshot other)
    {
        if (ReferenceEquals(this, other))
            return true;
        if (Interfaces.Length != other.Interfaces.Length)
            return false;
        for (var i = 0; i < Interfaces.Length; i++)
        {
            if (Interfaces[i].Index != other.Interfaces[i].Index || !string.Equals(Interfaces[i].Name, other.Interfaces[i].Name, StringComparison.Ordinal))
                return false;
        }
        return true;
    }

    /// <summary>
    /// The up interface whose connected subnet holds <paramref name="gateway"/> (BIRD's neighbour
    /// check for a static <c>via</c>), or null. The interface's own address is not a gateway.
    /// </summary>
    public InterfaceState? FindConnected(IpAddr gateway)
    {
        foreach (var i in Interfaces)
        {
            if (!i.IsUp)
                continue;
            foreach (var a in i.Addresses)
            {
                if (a.Address.IsV6 == gateway.IsV6 && a.Address != gateway && a.Subnet.Contains(gateway))
                    return i;
            }
        }
        return null;
    }

    /// <summary>
    /// Reads the interfaces again, and returns <paramref name="current"/> itself when nothing in it
    /// changed: a periodic scan of a node with hundreds of <c>cali*</c> interfaces then compares the
    /// dumps with it in place instead of building a snapshot of them every <c>scan time</c> (P6's garbage,
    /// bench/RESULTS-perf.md, eighteenth round). <paramref name="check"/> is the caller's, reused from scan to scan.
    /// </summary>
    public static async Task<InterfaceSnapshot> ReloadAsync(IRouteNetlink netlink, InterfaceSnapshot current, UnchangedInterfacesCheck check, CancellationToken cancellationToken)
    {
        check.Begin(current);
        await netlink.DumpInterfacesAsync(check, cancellationToken).ConfigureAwait(false);
        return check.Unchanged() ? current : await LoadAsync(netlink, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads links and both families' addresses. Addresses of admin-down interfaces are left out (Calico's fork).</summary>
    public static async Task<InterfaceSnapshot> LoadAsync(IRouteNetlink netlink, CancellationToken cancellationToken)
    {
        var links = await netlink.DumpLinksAsync(cancellationToken).ConfigureAwait(false);
        var v4 = await netlink.DumpAddressesAsync(false, cancellationToken).ConfigureAwait(false);
        var v6 = await netlink.DumpAddressesAsync(true, cancellationToken).ConfigureAwait(false);
        var byIndex = v4.Concat(v6).ToLookup(a => a.InterfaceIndex);
        var list = links
            .OrderBy(l => l.Index)
            .Select(l => new InterfaceState(l.Index, l.Name, l.Kind, l.Flags, l.Mtu,
                l.IsUp ? [.. byIndex[l.Index]] : []))
            .ToImmutableArray();
        return new InterfaceSnapshot(list);
    }
}
