using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Calico.Bgp.Fib.Netlink;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Fib.Kernel;

/// <summary>
/// What the kernel protocol knows of one prefix: the route of ours the kernel holds, the route the
/// table wants there, and marks of the loop (kept in the slot so the loop looks the prefix up once
/// per step instead of once in each of several sets).
/// </summary>
internal struct KernelViewSlot
{
    /// <summary>Our route in the kernel (from the last dump, then every successful write), or null.</summary>
    public KernelRouteSpec? Installed;

    /// <summary>The route the table's best wants in the kernel (after the export filter), or null.</summary>
    public KernelRouteSpec? Desired;

    /// <summary>The journal batch or resync that last planned the prefix (its stamp; 0 = none).</summary>
    public int Seen;

    /// <summary>The dump that last read our route of the prefix (its stamp).</summary>
    public int Read;

    /// <summary>A write of the prefix was planned and its result is not in yet.</summary>
    public bool Pending;
}

/// <summary>
/// The kernel protocol's view, one map keyed by prefix: installed and wanted in one slot. A prefix
/// with neither is not kept. Owned by the protocol's loop (no locking); the counts follow every
/// change made through <see cref="SetInstalled"/> and <see cref="SetDesired"/>.
/// </summary>
internal sealed class KernelView
{
    private readonly Dictionary<Prefix, KernelViewSlot> _map = [];

    public int InstalledCount { get; private set; }
    public int DesiredCount { get; private set; }
    public int Count => _map.Count;

    /// <summary>The slot of <paramref name="prefix"/>, or a null reference (<see cref="Unsafe.IsNullRef"/>) when there is none.</summary>
    public ref KernelViewSlot Find(Prefix prefix) => ref CollectionsMarshal.GetValueRefOrNullRef(_map, prefix);

    /// <summary>The slot of <paramref name="prefix"/>, added empty when there is none. Valid until the map next changes.</summary>
    public ref KernelViewSlot GetOrAdd(Prefix prefix) => ref CollectionsMarshal.GetValueRefOrAddDefault(_map, prefix, out _);

    public void SetInstalled(ref KernelViewSlot slot, KernelRouteSpec? route)
    {
        InstalledCount += (route is null ? 0 : 1) - (slot.Installed is null ? 0 : 1);
        slot.Installed = route;
    }

    public void SetDesired(ref KernelViewSlot slot, KernelRouteSpec? route)
    {
        DesiredCount += (route is null ? 0 : 1) - (slot.Desired is null ? 0 : 1);
        slot.Desired = route;
    }

    /// <summary>Drops the slot of <paramref name="prefix"/> if it holds neither route.</summary>
    public void RemoveIfEmpty(Prefix prefix)
    {
        ref var slot = ref Find(prefix);
        if (!Unsafe.IsNullRef(ref slot) && slot.Installed is null && slot.Desired is null)
            _map.Remove(prefix);
    }

    /// <summary>
    /// Our route of <paramref name="prefix"/> is gone from the kernel (a delete came back done): one
    /// probe when nothing is wanted there either, which is every delete but a metric change's.
    /// </summary>
    public void Uninstall(Prefix prefix)
    {
        if (!_map.Remove(prefix, out var old))
            return;
        if (old.Installed is not null)
            InstalledCount--;
        if (old.Desired is null)
        {
            return;
        }
        old.Installed = null;
        old.Pending = false;
        _map[prefix] = old;
    }

    public void EnsureCapacity(int capacity) => _map.EnsureCapacity(capacity);

    /// <summary>Every slot; a slot may be changed through the enumerator's <c>Current</c> key with <see cref="Find"/> or removed (Dictionary allows it), not added.</summary>
    public Dictionary<Prefix, KernelViewSlot>.Enumerator GetEnumerator() => _map.GetEnumerator();

    /// <summary>Removes a slot while enumerating (allowed for Dictionary); its routes leave the counts.</summary>
    public void Remove(Prefix prefix)
    {
        if (!_map.Remove(prefix, out var old))
            return;
        if (old.Installed is not null)
            InstalledCount--;
        if (old.Desired is not null)
            DesiredCount--;
    }
}
