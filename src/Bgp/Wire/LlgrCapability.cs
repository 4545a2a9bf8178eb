using System.Buffers.Binary;

namespace Calico.Bgp.Speaker.Wire;

/// <summary>
/// What the graceful-restart capabilities carry beyond presence: the forwarding-state flag of each
/// family (RFC 4724 §3) and the long-lived graceful restart capability (RFC 9494 §3, code 71).
/// We never advertise LLGR; we only decode it, so <c>show protocols all</c> says
/// <c>llgr-aware</c>/<c>llgr-able</c> as BIRD does.
/// </summary>
public sealed partial record CapabilitySet
{
    /// <summary>RFC 4724 §3 flag bit 0 of an (AFI, SAFI, Flags) tuple: forwarding state preserved.</summary>
    private const byte ForwardingStateFlag = 0x80;
    private const int GrTupleLength = 4;
    private const int LlgrTupleLength = 7;

    /// <summary>The families of the GR capability whose forwarding-state bit (F) is set.</summary>
    public IReadOnlyList<AfiSafi> GracefulRestartForwarding { get; init; } = [];

    /// <summary>The peer sent the long-lived graceful restart capability (RFC 9494 §3).</summary>
    public bool LongLivedGracefulRestart { get; init; }

    /// <summary>The families listed in it (none: BIRD's "llgr-aware").</summary>
    public IReadOnlyList<AfiSafi> LongLivedGracefulRestartFamilies { get; init; } = [];

    /// <summary>BIRD's word for the LLGR capability, or null when absent.</summary>
    internal string? LlgrWord => !LongLivedGracefulRestart ? null : LongLivedGracefulRestartFamilies.Count > 0 ? "llgr-able" : "llgr-aware";

    // RFC 4724 §3: Restart Flags (4 bits) | Restart Time (12 bits) | (AFI (2), SAFI (1), Flags (1))*

    /// <summary>The families of a GR capability value whose F bit is set.</summary>
    internal static IReadOnlyList<AfiSafi> ForwardingFamilies(ReadOnlySpan<byte> grValue)
    {
        var list = new List<AfiSafi>();
        for (var i = 2; i + GrTupleLength <= grValue.Length; i += GrTupleLength)
        {
            if ((grValue[i + 3] & ForwardingStateFlag) != 0)
                list.Add(new AfiSafi((Afi)BinaryPrimitives.ReadUInt16BigEndian(grValue[i..]), (Safi)grValue[i + 2]));
        }
        return list;
    }

    // RFC 9494 §3: (AFI (2), SAFI (1), Flags (1), Long-lived Stale Time (3))*

    /// <summary>Capabilities decoded outside the main switch; others are left alone (RFC 5492 §3).</summary>
    internal static CapabilitySet ApplyOther(byte code, ReadOnlySpan<byte> value, CapabilitySet into)
    {
        if (code != (byte)CapabilityCode.LongLivedGracefulRestart)
            return into;
        var families = new List<AfiSafi>(into.LongLivedGracefulRestartFamilies);
        // A value that is not a whole number of tuples is ignored for families but still shows presence.
        if (value.Length % LlgrTupleLength == 0)
        {
            for (var i = 0; i < value.Length; i += LlgrTupleLength)
                families.Add(new AfiSafi((Afi)BinaryPrimitives.ReadUInt16BigEndian(value[i..]), (Safi)value[i + 2]));
        }
        return into with { LongLivedGracefulRestart = true, LongLivedGracefulRestartFamilies = families };
    }
}
