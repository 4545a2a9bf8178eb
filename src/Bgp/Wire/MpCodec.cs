using System.Buffers.Binary;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Speaker.Wire;

/// <summary>MP_REACH_NLRI and MP_UNREACH_NLRI, RFC 4760 §3–4.</summary>
public static class MpCodec
{
    //  MP_REACH_NLRI:
    //  +---------------------------------------------------------+
    //  | Address Family Identifier (2 octets)                    |
    //  | Subsequent Address Family Identifier (1 octet)          |
    //  | Length of Next Hop Network Address (1 octet)            |
    //  | Network Address of Next Hop (variable)                  |
    //  | Reserved (1 octet)                                      |
    //  | Network Layer Reachability Information (variable)       |
    //  +---------------------------------------------------------+

    /// <summary>Reads MP_REACH_NLRI; malformed → session reset (RFC 7606 §7.11).</summary>
    public static void ReadReach(ReadOnlySpan<byte> v, ref DecodedAttributes d)
    {
        if (v.Length < 5 || v.Length < 5 + v[3])
        {
            d.Raise(ErrorAction.SessionReset, BgpError.Update(UpdateErrorSubcode.OptionalAttributeError));
            return;
        }
        var family = new AfiSafi((Afi)BinaryPrimitives.ReadUInt16BigEndian(v), (Safi)v[2]);
        int nhLen = v[3];
        var nh = v.Slice(4, nhLen);
        d.MpReachFamily = family;
        d.HasMpReach = true;
        d.MpReachNlri = v[(5 + nhLen)..];
        if (family == AfiSafi.Ipv6Unicast)
        {
            // RFC 2545 §3: 16 octets global, or 32 with a link-local after it.
            if (nhLen is not (16 or 32))
            {
                d.Raise(ErrorAction.SessionReset, BgpError.Update(UpdateErrorSubcode.OptionalAttributeError));
                return;
            }
            d.MpNextHop = IpAddr.FromBytes(nh[..16]);
            d.MpLinkLocalNextHop = nhLen == 32 ? IpAddr.FromBytes(nh[16..]) : null;
        }
        else if (family == AfiSafi.Ipv4Unicast)
        {
            if (nhLen != 4)
            {
                d.Raise(ErrorAction.SessionReset, BgpError.Update(UpdateErrorSubcode.OptionalAttributeError));
                return;
            }
            d.MpNextHop = IpAddr.FromBytes(nh);
        }
    }

    /// <summary>Reads MP_UNREACH_NLRI: AFI (2) | SAFI (1) | Withdrawn Routes (variable).</summary>
    public static void ReadUnreach(ReadOnlySpan<byte> v, ref DecodedAttributes d)
    {
        if (v.Length < 3)
        {
            d.Raise(ErrorAction.SessionReset, BgpError.Update(UpdateErrorSubcode.OptionalAttributeError));
            return;
        }
        d.HasMpUnreach = true;
        d.MpUnreachFamily = new AfiSafi((Afi)BinaryPrimitives.ReadUInt16BigEndian(v), (Safi)v[2]);
        d.MpUnreachNlri = v[3..];
    }
}
