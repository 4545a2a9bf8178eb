using System.Buffers;
using System.Buffers.Binary;

namespace Calico.Bgp.Speaker.Wire;

/// <summary>Capability codes (RFC 5492 §4, IANA registry).</summary>
public enum CapabilityCode : byte
{
    Multiprotocol = 1,
    RouteRefresh = 2,
    ExtendedMessage = 6,
    GracefulRestart = 64,
    FourOctetAs = 65,
    AddPath = 69,
    EnhancedRouteRefresh = 70,
    LongLivedGracefulRestart = 71,
}

/// <summary>ADD-PATH send/receive mode (RFC 7911 §4), also the config's <c>add paths</c>.</summary>
[Flags]
public enum AddPathMode : byte
{
    None = 0,
    Rx = 1,
    Tx = 2,
    Both = 3,
}

/// <summary>One AFI/SAFI pair.</summary>
public readonly record struct AfiSafi(Afi Afi, Safi Safi)
{
    public static AfiSafi Ipv4Unicast => new(Afi.Ipv4, Safi.Unicast);
    public static AfiSafi Ipv6Unicast => new(Afi.Ipv6, Safi.Unicast);
    public override string ToString() => Afi == Afi.Ipv4 ? "ipv4" : "ipv6";
}

/// <summary>
/// The capabilities one side advertised in its OPEN. Unknown capabilities are ignored
/// (RFC 5492 §3).
/// </summary>
public sealed partial record CapabilitySet
{
    public IReadOnlyList<AfiSafi> Families { get; init; } = [];
    public bool RouteRefresh { get; init; }
    public bool EnhancedRouteRefresh { get; init; }
    /// <summary>RFC 6793: our 4-octet AS, or null when the capability is absent.</summary>
    public uint? FourOctetAs { get; init; }
    public bool ExtendedMessage { get; init; }
    /// <summary>RFC 4724 §3: present, restart flag (R), restart time, families with forwarding-state flag.</summary>
    public bool GracefulRestart { get; init; }
    public bool GracefulRestartRestarting { get; init; }
    public int GracefulRestartTime { get; init; }
    public IReadOnlyList<AfiSafi> GracefulRestartFamilies { get; init; } = [];
    // One empty map for every set without ADD-PATH, not a dictionary per instance.
    public IReadOnlyDictionary<AfiSafi, AddPathMode> AddPath { get; init; } = System.Collections.ObjectModel.ReadOnlyDictionary<AfiSafi, AddPathMode>.Empty;

    public AddPathMode AddPathFor(AfiSafi family) => AddPath.TryGetValue(family, out var m) ? m : AddPathMode.None;

    /// <summary>BIRD's words for <c>Neighbor caps:</c> in <c>show protocols all</c>.</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if (RouteRefresh)
            parts.Add("refresh");
        if (EnhancedRouteRefresh)
            parts.Add("enhanced-refresh");
        if (GracefulRestart)
            parts.Add(GracefulRestartFamilies.Count > 0 ? "restart-able" : "restart-aware");
        if (LlgrWord is { } llgr)
            parts.Add(llgr);
        if (FourOctetAs is not null)
            parts.Add("AS4");
        var rx = AddPath.Values.Any(m => (m & AddPathMode.Rx) != 0);
        var tx = AddPath.Values.Any(m => (m & AddPathMode.Tx) != 0);
        if (rx)
            parts.Add("add-path-rx");
        if (tx)
            parts.Add("add-path-tx");
        if (ExtendedMessage)
            parts.Add("ext-messages");
        return string.Join(' ', parts);
    }

    // RFC 5492 §4: Capability Code (1) | Capability Length (1) | Capability Value (variable)

    /// <summary>Parses the capabilities inside one optional parameter of type 2.</summary>
    /// <remarks>
    /// The plain flags are gathered in locals and the set copied once at the end (graceful restart and
    /// LLGR, which carry more, still copy it), and a list or map is made only for a capability that adds
    /// to it: a copy per capability and three collections per parameter were most of what a session's
    /// OPEN cost a reflector bringing up its clients (bench/RESULTS-perf.md, twentieth round).
    /// </remarks>
    public static bool TryParse(ReadOnlySpan<byte> data, CapabilitySet into, out CapabilitySet result, out BgpError? error)
    {
        result = into;
        error = null;
        List<AfiSafi>? families = null;
        List<AfiSafi>? grFamilies = null;
        Dictionary<AfiSafi, AddPathMode>? addPath = null;
        var (routeRefresh, enhancedRouteRefresh, extendedMessage, fourOctetAs) = (into.RouteRefresh, into.EnhancedRouteRefresh, into.ExtendedMessage, into.FourOctetAs);
        while (data.Length > 0)
        {
            if (data.Length < 2 || data.Length < 2 + data[1])
            {
                error = BgpError.Open(0);
                return false;
            }
            var code = data[0];
            var value = data.Slice(2, data[1]);
            data = data[(2 + data[1])..];
            switch ((CapabilityCode)code)
            {
                case CapabilityCode.Multiprotocol when value.Length == 4:
                    (families ??= [.. into.Families]).Add(new AfiSafi((Afi)BinaryPrimitives.ReadUInt16BigEndian(value), (Safi)value[3]));
                    break;
                case CapabilityCode.RouteRefresh:
                    routeRefresh = true;
                    break;
                case CapabilityCode.EnhancedRouteRefresh:
                    enhancedRouteRefresh = true;
                    break;
                case CapabilityCode.ExtendedMessage:
                    extendedMessage = true;
                    break;
                case CapabilityCode.FourOctetAs when value.Length == 4:
                    fourOctetAs = BinaryPrimitives.ReadUInt32BigEndian(value);
                    break;
                case CapabilityCode.GracefulRestart when value.Length >= 2:
                    // RFC 4724 §3: Restart Flags (4 bits) | Restart Time (12 bits) | (AFI, SAFI, Flags)*
                    var word = BinaryPrimitives.ReadUInt16BigEndian(value);
                    grFamilies ??= [.. into.GracefulRestartFamilies];
                    for (var i = 2; i + 4 <= value.Length; i += 4)
                        grFamilies.Add(new AfiSafi((Afi)BinaryPrimitives.ReadUInt16BigEndian(value[i..]), (Safi)value[i + 2]));
                    result = result with { GracefulRestart = true, GracefulRestartRestarting = (word & 0x8000) != 0, GracefulRestartTime = word & 0x0FFF, GracefulRestartForwarding = ForwardingFamilies(value) };
                    break;
                case CapabilityCode.AddPath:
                    // RFC 7911 §4: (AFI (2), SAFI (1), Send/Receive (1))*
                    addPath ??= new Dictionary<AfiSafi, AddPathMode>(into.AddPath);
                    for (var i = 0; i + 4 <= value.Length; i += 4)
                        addPath[new AfiSafi((Afi)BinaryPrimitives.ReadUInt16BigEndian(value[i..]), (Safi)value[i + 2])] = (AddPathMode)(value[i + 3] & 3);
                    break;
                default:
                    // RFC 5492 §3: unknown capabilities are ignored (LLGR is only decoded, LlgrCapability.cs).
                    result = ApplyOther(code, value, result);
                    break;
            }
        }
        result = result with
        {
            Families = families ?? into.Families,
            GracefulRestartFamilies = grFamilies ?? into.GracefulRestartFamilies,
            AddPath = addPath ?? into.AddPath,
            RouteRefresh = routeRefresh,
            EnhancedRouteRefresh = enhancedRouteRefresh,
            ExtendedMessage = extendedMessage,
            FourOctetAs = fourOctetAs,
        };
        return true;
    }

    /// <summary>Writes each capability as its own TLV (the caller wraps them in optional parameters).</summary>
    public void Write(IBufferWriter<byte> writer)
    {
        foreach (var f in Families)
            WriteCap(writer, CapabilityCode.Multiprotocol, [(byte)((ushort)f.Afi >> 8), (byte)f.Afi, 0, (byte)f.Safi]);
        if (RouteRefresh)
            WriteCap(writer, CapabilityCode.RouteRefresh, []);
        if (EnhancedRouteRefresh)
            WriteCap(writer, CapabilityCode.EnhancedRouteRefresh, []);
        if (ExtendedMessage)
            WriteCap(writer, CapabilityCode.ExtendedMessage, []);
        if (GracefulRestart)
        {
            Span<byte> gr = stackalloc byte[2 + 4 * GracefulRestartFamilies.Count];
            BinaryPrimitives.WriteUInt16BigEndian(gr, (ushort)((GracefulRestartRestarting ? 0x8000 : 0) | (GracefulRestartTime & 0x0FFF)));
            for (var i = 0; i < GracefulRestartFamilies.Count; i++)
            {
                var f = GracefulRestartFamilies[i];
                BinaryPrimitives.WriteUInt16BigEndian(gr[(2 + 4 * i)..], (ushort)f.Afi);
                gr[4 + 4 * i] = (byte)f.Safi;
                gr[5 + 4 * i] = 0;
            }
            WriteCap(writer, CapabilityCode.GracefulRestart, gr);
        }
        if (FourOctetAs is { } asn)
        {
            Span<byte> v = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(v, asn);
            WriteCap(writer, CapabilityCode.FourOctetAs, v);
        }
        // A family per four bytes, written in place: no list of the modes per OPEN.
        Span<byte> ap = stackalloc byte[4 * AddPath.Count];
        var n = 0;
        foreach (var (family, mode) in AddPath)
        {
            if (mode == AddPathMode.None)
                continue;
            BinaryPrimitives.WriteUInt16BigEndian(ap[n..], (ushort)family.Afi);
            ap[n + 2] = (byte)family.Safi;
            ap[n + 3] = (byte)mode;
            n += 4;
        }
        if (n > 0)
            WriteCap(writer, CapabilityCode.AddPath, ap[..n]);
    }

    private static void WriteCap(IBufferWriter<byte> writer, CapabilityCode code, ReadOnlySpan<byte> value)
    {
        var span = writer.GetSpan(2 + value.Length);
        span[0] = (byte)code;
        span[1] = (byte)value.Length;
        value.CopyTo(span[2..]);
        writer.Advance(2 + value.Length);
    }
}
