using System.Buffers;
using System.Net;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.LoadGen.Agent;

/// <summary>
/// Pre-encodes what a speaker sends, once, before the clock starts: the path attributes by hand
/// (ORIGIN, AS_PATH, NEXT_HOP, LOCAL_PREF) and the messages with the daemon's own
/// <see cref="UpdateWriter"/>, packed as full as the negotiated codec allows.
/// </summary>
public static class UpdateStreams
{
    private const byte WellKnown = AttributeFlags.Transitive;
    private const uint LocalPref = 100;

    /// <summary>The attribute block: eBGP puts our AS in the path; iBGP adds LOCAL_PREF.</summary>
    public static byte[] Attributes(BgpSpeaker s, bool ebgp)
    {
        var w = new ArrayBufferWriter<byte>();
        AttributeEncoder.Write(w, WellKnown, AttributeType.Origin, [0]);
        if (ebgp)
        {
            var four = s.Codec.FourOctetAs;
            Span<byte> path = stackalloc byte[6];
            path[0] = 2; // AS_SEQUENCE
            path[1] = 1;
            if (four)
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(path[2..], s.Asn);
            else
                System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(path[2..], (ushort)s.Asn);
            AttributeEncoder.Write(w, WellKnown, AttributeType.AsPath, path[..(four ? 6 : 4)]);
        }
        else
        {
            AttributeEncoder.Write(w, WellKnown, AttributeType.AsPath, []);
        }
        if (!s.V6)
            AttributeEncoder.Write(w, WellKnown, AttributeType.NextHop, s.Local.GetAddressBytes());
        if (!ebgp)
        {
            Span<byte> lp = stackalloc byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(lp, LocalPref);
            AttributeEncoder.Write(w, WellKnown, AttributeType.LocalPref, lp);
        }
        return w.WrittenSpan.ToArray();
    }

    /// <summary>All <paramref name="prefixes"/> packed into as few UPDATEs as fit.</summary>
    public static (byte[] Bytes, int Messages) Announce(BgpSpeaker s, bool ebgp, ReadOnlySpan<Prefix> prefixes)
    {
        var nlri = new Nlri[prefixes.Length];
        for (var i = 0; i < nlri.Length; i++)
            nlri[i] = new Nlri(prefixes[i], 1);
        var w = new ArrayBufferWriter<byte>(Math.Max(4096, prefixes.Length * 8));
        var n = UpdateWriter.WriteAnnouncements(w, s.Codec, Attributes(s, ebgp), nlri, s.V6, NextHop(s));
        return (w.WrittenSpan.ToArray(), n);
    }

    /// <summary>One UPDATE per prefix (churn: every workload comes and goes on its own).</summary>
    public static byte[] AnnounceOneEach(BgpSpeaker s, ReadOnlySpan<byte> attributes, Prefix prefix)
    {
        var w = new ArrayBufferWriter<byte>(128);
        UpdateWriter.WriteAnnouncements(w, s.Codec, attributes, [new Nlri(prefix, 1)], s.V6, NextHop(s));
        return w.WrittenSpan.ToArray();
    }

    public static byte[] WithdrawOneEach(BgpSpeaker s, Prefix prefix)
    {
        var w = new ArrayBufferWriter<byte>(64);
        UpdateWriter.WriteWithdrawals(w, s.Codec, [new Nlri(prefix, 1)], s.V6);
        return w.WrittenSpan.ToArray();
    }

    public static byte[] EndOfRib(bool v6)
    {
        var w = new ArrayBufferWriter<byte>(32);
        UpdateWriter.WriteEndOfRib(w, v6);
        return w.WrittenSpan.ToArray();
    }

    private static IpAddr NextHop(BgpSpeaker s) => IpAddr.FromBytes(s.Local.GetAddressBytes());

    /// <summary>IPv4 prefix number <paramref name="i"/> of length <paramref name="len"/> under <paramref name="baseAddr"/>.</summary>
    public static Prefix V4(uint baseAddr, int i, int len) => new(IpAddr.FromV4(baseAddr + ((uint)i << (32 - len))), len);

    /// <summary>IPv6 /48 number <paramref name="i"/> under 2001:db8::/16-ish space (distinct first 48 bits).</summary>
    public static Prefix V6Slash48(int i)
    {
        UInt128 top = ((UInt128)0x2001_0000_0000UL + (ulong)i) << 80;
        return new Prefix(IpAddr.FromV6(top), 48);
    }

    public static uint V4Base(string address) =>
        System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(IPAddress.Parse(address).GetAddressBytes());
}
