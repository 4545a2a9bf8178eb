namespace Calico.Bgp.Fib.Interfaces;

/// <summary>
/// A live view of the interfaces shared by the protocols that depend on them (BIRD's global
/// interface list, kept by the device protocol): direct routes, static <c>via</c> neighbour checks
/// and <c>krt_tunnel</c> lookups follow it as soon as it changes.
/// </summary>
public interface IInterfaceSource
{
    /// <summary>The interfaces as last read; a consistent snapshot.</summary>
    InterfaceSnapshot Interfaces { get; }

    /// <summary>Raised with the new snapshot after the interfaces or their addresses changed.</summary>
    event Action<InterfaceSnapshot>? Changed;
}
