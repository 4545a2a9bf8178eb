using Calico.Bgp.Rib;
using Microsoft.Extensions.Logging;

namespace Calico.Bgp.Fib.Interfaces;

/// <summary>
/// BIRD's <c>debug { interfaces }</c> lines: what changed between two interface snapshots, as a
/// protocol is told of it (interface created, gone, up, down; address added, removed).
/// </summary>
internal static class InterfaceTrace
{
    /// <summary>Writes the changes from <paramref name="old"/> to <paramref name="next"/>; the caller checks that Debug is enabled.</summary>
    public static void Write(ILogger log, string protocol, InterfaceSnapshot old, InterfaceSnapshot next)
    {
        foreach (var i in next.Interfaces)
        {
            var was = old.ByIndex(i.Index);
            if (was is null)
                Interface(log, protocol, i.Name, i.IsUp ? "created (up)" : "created (down)");
            else if (was.IsUp != i.IsUp)
                Interface(log, protocol, i.Name, i.IsUp ? "goes up" : "goes down");
            else if (was.Name != i.Name || was.Flags != i.Flags || was.Mtu != i.Mtu)
                Interface(log, protocol, i.Name, "changed");
            var before = was?.Addresses ?? [];
            foreach (var a in i.Addresses)
            {
                if (!before.Contains(a))
                    Address(log, protocol, a.Address, a.PrefixLength, i.Name, "added");
            }
            foreach (var a in before)
            {
                if (!i.Addresses.Contains(a))
                    Address(log, protocol, a.Address, a.PrefixLength, i.Name, "removed");
            }
        }
        foreach (var i in old.Interfaces)
        {
            if (next.ByIndex(i.Index) is null)
                Interface(log, protocol, i.Name, "removed");
        }
    }

    private static void Interface(ILogger log, string protocol, string name, string what) =>
        log.LogDebug(ProtocolEvents.InterfaceChanged, "{Protocol} < interface {Interface} {Change}", protocol, name, what);

    private static void Address(ILogger log, string protocol, IpAddr address, int length, string name, string what) =>
        log.LogDebug(ProtocolEvents.AddressChanged, "{Protocol} < address {Address}/{Length} on interface {Interface} {Change}", protocol, address, length, name, what);
}
