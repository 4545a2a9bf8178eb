using System.Reflection;
using System.Text;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Config;

/// <summary><c>protocol kernel</c>: syncs the table with the kernel's.</summary>
public sealed record KernelProtocolConfig : ProtocolConfig
{
    public override string TypeName => "Kernel";
    public bool Persist { get; init; }
    public bool Learn { get; init; }
    public int ScanTime { get; init; } = 60;
    public bool GracefulRestart { get; init; }
    public bool MergePaths { get; init; }
    /// <summary>0 means BIRD's default limit (16 next hops).</summary>
    public int MergePathsLimit { get; init; }
    public int KernelTable { get; init; } = 254;
    public bool DeviceRoutes { get; init; }
}

/// <summary><c>protocol device</c>: watches interfaces.</summary>
public sealed record DeviceProtocolConfig : ProtocolConfig
{
    public override string TypeName => "Device";
    public int ScanTime { get; init; } = 60;
}

/// <summary>One entry of <c>interface -"cali*", "*";</c>: a shell pattern, excluded when prefixed by <c>-</c>.</summary>
public sealed record InterfacePattern(bool Exclude, string Pattern);

/// <summary><c>protocol direct</c>: routes for the addresses of matching interfaces.</summary>
public sealed record DirectProtocolConfig : ProtocolConfig
{
    public override string TypeName => "Direct";
    /// <summary>Ordered; the first pattern that matches decides. Empty means every interface.</summary>
    public EquatableList<InterfacePattern> Interfaces { get; init; } = EquatableList<InterfacePattern>.Empty;
}

/// <summary>
/// One <c>route P blackhole|unreachable|prohibit|via IP;</c>, or <c>route P multipath via IP [weight N] …;</c>
/// (<see cref="RouteDest.Multipath"/>, its gateways in <paramref name="NextHops"/>).
/// </summary>
public sealed record StaticRouteConfig(Prefix Prefix, RouteDest Dest, IpAddr? Gateway, EquatableList<StaticNextHopConfig>? NextHops = null);

/// <summary>One <c>via IP [weight N]</c> of a multipath static route; weight 1..256 (BIRD 1.6's range).</summary>
public sealed record StaticNextHopConfig(IpAddr Gateway, int Weight = 1);

/// <summary><c>protocol static</c>.</summary>
public sealed record StaticProtocolConfig : ProtocolConfig
{
    public override string TypeName => "Static";
    public EquatableList<StaticRouteConfig> Routes { get; init; } = EquatableList<StaticRouteConfig>.Empty;
}

/// <summary>BIRD's <c>gateway direct|recursive</c>.</summary>
public enum GatewayMode
{
    Direct,
    Recursive,
}

/// <summary>BIRD's <c>add paths on|rx|tx|off</c> (RFC 7911).</summary>
public enum AddPathMode
{
    None,
    Rx,
    Tx,
    Both,
}

/// <summary><c>protocol bgp</c>: one BGP session.</summary>
public sealed record BgpProtocolConfig : ProtocolConfig
{
    public override string TypeName => "BGP";
    public uint LocalAs { get; init; }
    /// <summary>From <c>local IP as N</c>.</summary>
    public IpAddr? LocalAddress { get; init; }
    public IpAddr NeighborAddress { get; init; }
    public int NeighborPort { get; init; } = 179;
    public uint NeighborAs { get; init; }
    public IpAddr? SourceAddress { get; init; }
    public bool Multihop { get; init; }
    /// <summary>
    /// <c>direct</c> given (and no later <c>multihop</c>): an iBGP neighbour on a shared network, whose
    /// gateway is then direct by default, as an eBGP one's is.
    /// </summary>
    public bool Direct { get; init; }
    /// <summary>TTL of <c>multihop N</c>; null with a bare <c>multihop</c> (BIRD then uses 64).</summary>
    public int? MultihopTtl { get; init; }
    public bool TtlSecurity { get; init; }
    public bool Passive { get; init; }
    public string? Password { get; init; }
    public bool RrClient { get; init; }
    public uint? RrClusterId { get; init; }
    public bool NextHopSelf { get; init; }
    public bool NextHopKeep { get; init; }
    public GatewayMode? Gateway { get; init; }
    public AddPathMode AddPaths { get; init; }
    public bool GracefulRestart { get; init; }
    public int? GracefulRestartTime { get; init; }
    public int ConnectDelayTime { get; init; } = 5;
    public int ConnectRetryTime { get; init; } = 120;
    public int ErrorWaitMin { get; init; } = 60;
    public int ErrorWaitMax { get; init; } = 300;
    public int? KeepaliveTime { get; init; }
    public int? HoldTime { get; init; }
    public int? StartupHoldTime { get; init; }
    /// <summary>BIRD 2's <c>send hold time</c> (RFC 9687); null: the default.</summary>
    public int? SendHoldTime { get; init; }
    public int? AllowLocalAs { get; init; }

    /// <summary>iBGP when both sides are in the same AS.</summary>
    public bool IsInternal => LocalAs == NeighborAs;

    /// <summary>What <see cref="ToString"/> prints in place of the MD5 key.</summary>
    public const string RedactedPassword = "***";

    /// <summary>
    /// The record's print, without the secret: the generated one lists every property, the
    /// <c>password</c> included, and a config model reaches logs (reload diffs, exception messages).
    /// The other properties print as the generated print would, including ones added later.
    /// </summary>
    protected override bool PrintMembers(StringBuilder builder)
    {
        base.PrintMembers(builder);
        foreach (var property in typeof(BgpProtocolConfig).GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
        {
            // Overrides (TypeName) were printed by the base already.
            if (property.GetMethod!.GetBaseDefinition().DeclaringType != typeof(BgpProtocolConfig))
                continue;
            builder.Append(", ").Append(property.Name).Append(" = ");
            if (property.Name == nameof(Password))
                builder.Append(Password is null ? "" : RedactedPassword);
            else
                builder.Append(property.GetValue(this));
        }
        return true;
    }
}
