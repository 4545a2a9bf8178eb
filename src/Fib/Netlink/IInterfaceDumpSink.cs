namespace Calico.Bgp.Fib.Netlink;

/// <summary>
/// Takes the links and then the addresses of an interface dump one by one as they are read
/// (<see cref="IRouteNetlink.DumpInterfacesAsync"/>), without an object each.
/// </summary>
public interface IInterfaceDumpSink
{
    /// <summary>One link; its names are valid only during the call.</summary>
    void OnLink(in LinkFields link);

    /// <summary>One address (IPv4 ones first, then IPv6).</summary>
    void OnAddress(in AddressFields address);

    /// <summary>One of the dumps was interrupted (NLM_F_DUMP_INTR) and starts over: what it gave since it began comes again.</summary>
    void Restart();
}
