using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Config.Filters;

/// <summary>
/// A run-time value. Types are checked at parse time, so the value carries no tag: integers, bools,
/// enums, pairs and quads use <see cref="Int"/>; addresses <see cref="Ip"/>; prefixes
/// <see cref="Ip"/> + <see cref="Int"/> (length); everything else <see cref="Obj"/>. A community list
/// is kept as its bare array (never a boxed <see cref="ImmutableArray{T}"/>), so reading a route's
/// list in a filter allocates nothing.
/// </summary>
internal readonly struct FilterValue
{
    public readonly long Int;
    public readonly IpAddr Ip;
    public readonly object? Obj;

    public FilterValue(long i, IpAddr ip, object? obj)
    {
        Int = i;
        Ip = ip;
        Obj = obj;
    }

    public static readonly FilterValue True = new(1, default, null);
    public static readonly FilterValue False = new(0, default, null);

    public static FilterValue FromInt(long v) => new(v, default, null);
    public static FilterValue FromBool(bool v) => v ? True : False;
    public static FilterValue FromIp(IpAddr v) => new(0, v, null);
    public static FilterValue FromPrefix(Prefix p) => new(p.Length, p.Address, null);
    public static FilterValue FromObj(object v) => new(0, default, v);
    public static FilterValue FromClist(ImmutableArray<Community> v) => new(0, default, ImmutableCollectionsMarshal.AsArray(v) ?? []);
    public static FilterValue FromLClist(ImmutableArray<LargeCommunity> v) => new(0, default, ImmutableCollectionsMarshal.AsArray(v) ?? []);

    public bool Bool => Int != 0;
    public Prefix Prefix => new(Ip, (int)Int);
    public string String => (string)Obj!;
    public ImmutableArray<Community> Clist => ImmutableCollectionsMarshal.AsImmutableArray((Community[])Obj!);
    public ImmutableArray<LargeCommunity> LClist => ImmutableCollectionsMarshal.AsImmutableArray((LargeCommunity[])Obj!);
}
