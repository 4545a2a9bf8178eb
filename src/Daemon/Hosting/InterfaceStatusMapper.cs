using Calico.Bgp.Daemon.Control;
using Calico.Bgp.Fib.Interfaces;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Daemon.Hosting;

/// <summary>The device protocol's interface view in the words of BIRD 1.6's <c>show interfaces</c>.</summary>
internal static class InterfaceStatusMapper
{
    // linux/if.h
    private const uint IffBroadcast = 0x2;
    private const uint IffLoopback = 0x8;
    private const uint IffPointToPoint = 0x10;
    private const uint IffMulticast = 0x1000;

    /// <summary>
    /// BIRD 1.6 runs one daemon per family (<c>bird</c>, <c>bird6</c>) and each sees only its own
    /// family's addresses: an interface with IPv6 link-local addresses only is <c>DOWN</c> to <c>bird</c>.
    /// </summary>
    public static IReadOnlyList<InterfaceStatus> Map(InterfaceSnapshot snapshot, bool ipv6) =>
        [.. snapshot.Interfaces.Select(i => Map(i, ipv6))];

    private static InterfaceStatus Map(InterfaceState i, bool ipv6)
    {
        var flags = new List<string>();
        if ((i.Flags & IffPointToPoint) == 0)
            flags.Add("MultiAccess");
        if ((i.Flags & IffBroadcast) != 0)
            flags.Add("Broadcast");
        if ((i.Flags & IffMulticast) != 0 && (i.Flags & IffLoopback) == 0)
            flags.Add("Multicast");
        if (i.IsUp)
            flags.Add("AdminUp");
        if (i.IsLinkUp || i.IsLoopback)
            flags.Add("LinkUp");
        if (i.IsLoopback)
        {
            flags.Add("Loopback");
            // BIRD ignores loopback interfaces for routing protocols.
            flags.Add("Ignored");
        }
        var addresses = i.Addresses
            .Where(a => a.Address.IsV6 == ipv6)
            .Select((a, n) => new InterfaceAddress(a.Address, a.PrefixLength, n == 0, Scope(a.Address), a.Peer))
            .ToList();
        // BIRD calls an interface up only when it is administratively and physically up and has an address.
        var up = i.IsUp && (i.IsLinkUp || i.IsLoopback) && addresses.Count > 0;
        return new InterfaceStatus(i.Name, up, i.Index, string.Join(' ', flags), (int)i.Mtu, addresses);
    }

    /// <summary>BIRD's address scope classes (<c>ip_classify</c>): host, link, site (private ranges), univ.</summary>
    internal static string Scope(IpAddr a)
    {
        if (!a.IsV6)
        {
            var v = a.V4;
            if (v >> 24 == 127)
                return "host";
            if (v >> 16 == 0xA9FE)
                return "link";
            if (v >> 24 == 10 || v >> 20 == 0xAC1 || v >> 16 == 0xC0A8)
                return "site";
            return "univ";
        }
        if (a.Bits == 1)
            return "host";
        if (a.IsV6LinkLocal)
            return "link";
        // fec0::/10 (deprecated site-local) is BIRD's site scope for IPv6.
        if ((ulong)(a.Bits >> 118) == 0x3FB)
            return "site";
        return "univ";
    }
}
