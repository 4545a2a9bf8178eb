using System.Collections.Immutable;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Fib.Netlink;

/// <summary>rtm_type values the FIB writes (RTN_*, include/uapi/linux/rtnetlink.h).</summary>
public enum KernelRouteType : byte
{
    Unicast = 1,
    Local = 2,
    Broadcast = 3,
    Anycast = 4,
    Multicast = 5,
    Blackhole = 6,
    Unreachable = 7,
    Prohibit = 8,
    Throw = 9,
}

/// <summary>One next hop of a multipath route (struct rtnexthop + RTA_GATEWAY); <paramref name="Weight"/> 1..256 is rtnh_hops + 1.</summary>
public readonly record struct KernelNextHop(IpAddr? Gateway, int InterfaceIndex, bool Onlink = false, int Weight = 1);

/// <summary>
/// A route as the kernel's FIB holds it: what RTM_NEWROUTE writes and a dump reads back. The kernel
/// keys a route by (table, prefix, tos, priority); the FIB keeps one of ours per prefix, as BIRD 1.6.
/// </summary>
public sealed record KernelRouteSpec
{
    public required Prefix Prefix { get; init; }
    public KernelRouteType Type { get; init; } = KernelRouteType.Unicast;
    public IpAddr? Gateway { get; init; }
    /// <summary>RTA_OIF; 0 = none given (the kernel picks it from the gateway).</summary>
    public int OutInterfaceIndex { get; init; }
    /// <summary>RTNH_F_ONLINK: the gateway is on the link even without a matching address.</summary>
    public bool Onlink { get; init; }
    /// <summary>RTA_PRIORITY; null = none given (IPv4 reads back 0, IPv6 1024).</summary>
    public uint? Metric { get; init; }
    public byte Protocol { get; init; } = Rtnl.ProtoBird;
    public uint Table { get; init; } = Rtnl.TableMain;
    public byte Scope { get; init; } = Rtnl.ScopeUniverse;
    /// <summary>RTA_MULTIPATH next hops; default or empty for a single-path route.</summary>
    public ImmutableArray<KernelNextHop> NextHops { get; init; }
    /// <summary>RTA_PREFSRC, as read from a dump.</summary>
    public IpAddr? PreferredSource { get; init; }
    /// <summary>rtm_flags as read (RTM_F_CLONED etc.).</summary>
    public uint Flags { get; init; }

    public bool IsMultipath => !NextHops.IsDefaultOrEmpty;

    /// <summary>The priority the kernel stores when none is given (IPv6 uses IP6_RT_PRIO_USER = 1024).</summary>
    public uint EffectiveMetric => Metric ?? (Prefix.IsV6 ? 1024u : 0u);

    /// <summary>
    /// Whether <paramref name="actual"/> (read from the kernel) already is this desired route, so it
    /// need not be written. An unset interface here matches any the kernel chose (BIRD's
    /// <c>krt_same_dest</c> with Calico's interface check when one was asked for).
    /// </summary>
    public bool Matches(KernelRouteSpec actual)
    {
        if (actual.Prefix != Prefix || actual.Type != Type || actual.EffectiveMetric != EffectiveMetric
            || actual.Protocol != Protocol || actual.Table != Table)
            return false;
        if (Type != KernelRouteType.Unicast)
            return true;
        if (IsMultipath || actual.IsMultipath)
        {
            if (NextHops.IsDefaultOrEmpty || actual.NextHops.IsDefaultOrEmpty || NextHops.Length != actual.NextHops.Length)
                return false;
            // A loop, not LINQ: a scan calls this for every route we hold, and must not allocate.
            foreach (var hop in NextHops)
            {
                var found = false;
                foreach (var a in actual.NextHops)
                {
                    // The weight too: a reload that changes only weights must reach the kernel.
                    if (SameHop(hop.Gateway, hop.InterfaceIndex, hop.Onlink, a.Gateway, a.InterfaceIndex, a.Onlink) && Math.Max(1, hop.Weight) == Math.Max(1, a.Weight))
                    {
                        found = true;
                        break;
                    }
                }
                if (!found)
                    return false;
            }
            return true;
        }
        return SameHop(Gateway, OutInterfaceIndex, Onlink, actual.Gateway, actual.OutInterfaceIndex, actual.Onlink);
    }

    private static bool SameHop(IpAddr? gw, int oif, bool onlink, IpAddr? actualGw, int actualOif, bool actualOnlink) =>
        gw == actualGw && (oif == 0 || oif == actualOif) && onlink == actualOnlink;

    public override string ToString()
    {
        var sb = new System.Text.StringBuilder();
        if (Type != KernelRouteType.Unicast)
            sb.Append(Type.ToString().ToLowerInvariant()).Append(' ');
        sb.Append(Prefix);
        if (IsMultipath)
        {
            foreach (var h in NextHops)
                sb.Append(" nexthop via ").Append(h.Gateway).Append(" dev #").Append(h.InterfaceIndex).Append(h.Onlink ? " onlink" : "");
        }
        else
        {
            if (Gateway is { } gw)
                sb.Append(" via ").Append(gw);
            if (OutInterfaceIndex != 0)
                sb.Append(" dev #").Append(OutInterfaceIndex);
        }
        sb.Append(" proto ").Append(Protocol);
        if (Metric is { } m)
            sb.Append(" metric ").Append(m);
        if (Onlink && !IsMultipath)
            sb.Append(" onlink");
        if (Table != Rtnl.TableMain)
            sb.Append(" table ").Append(Table);
        return sb.ToString();
    }
}
