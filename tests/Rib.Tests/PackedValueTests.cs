using System.Runtime.CompilerServices;
using Calico.Bgp.Rib;

namespace Calico.Bgp.Rib.Tests;

/// <summary>The packed forms behind the table's memory: addresses, prefixes, routes and entries.</summary>
public class PackedValueTests
{
    [Fact]
    public void Addresses_and_prefixes_stay_small()
    {
        // A million routes hold a prefix each: 8 bytes more here is 8 MB more there.
        Assert.True(Unsafe.SizeOf<IpAddr>() <= 24, $"IpAddr is {Unsafe.SizeOf<IpAddr>()} bytes");
        Assert.True(Unsafe.SizeOf<Prefix>() <= 24, $"Prefix is {Unsafe.SizeOf<Prefix>()} bytes");
    }

    [Theory]
    [InlineData("1.2.3.4", "::ffff:1.2.3.4")]
    [InlineData("1.2.3.4", "::102:304")]
    [InlineData("0.0.0.0", "::")]
    [InlineData("0.0.0.1", "::1")]
    public void An_IPv4_address_differs_from_every_IPv6_one_with_the_same_low_bits(string v4, string v6)
    {
        var a = IpAddr.Parse(v4);
        var b = IpAddr.Parse(v6);
        Assert.NotEqual(a, b);
        Assert.False(a == b);
        Assert.Equal(2, new HashSet<IpAddr> { a, b }.Count);
        Assert.True(a < b);
        Assert.Equal(v4, a.ToString());
        Assert.Equal(b, IpAddr.Parse(b.ToString()));
    }

    [Theory]
    [InlineData("10.233.89.7")]
    [InlineData("255.255.255.255")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("fe80::1")]
    [InlineData("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")]
    [InlineData("2001:db8:0:1::")]
    public void Every_way_of_making_an_address_gives_the_same_value_and_hash(string text)
    {
        var parsed = IpAddr.Parse(text);
        var viaSystem = IpAddr.FromIPAddress(System.Net.IPAddress.Parse(text));
        Span<byte> b = stackalloc byte[16];
        var viaBytes = IpAddr.FromBytes(b[..parsed.WriteBytes(b)]);
        var viaBits = IpAddr.FromBits(parsed.Bits, parsed.IsV6);
        foreach (var other in new[] { viaSystem, viaBytes, viaBits })
        {
            Assert.Equal(parsed, other);
            Assert.Equal(parsed.GetHashCode(), other.GetHashCode());
            Assert.Equal(0, parsed.CompareTo(other));
        }
        Assert.Equal(text, parsed.ToString());
    }

    [Fact]
    public void IPv6_bits_round_trip_across_both_words_and_order_by_the_high_word_first()
    {
        var high = IpAddr.FromV6((UInt128)1 << 64);
        var low = IpAddr.FromV6(ulong.MaxValue);
        Assert.Equal((UInt128)1 << 64, high.Bits);
        Assert.Equal((UInt128)ulong.MaxValue, low.Bits);
        Assert.True(low < high);
        Assert.True(IpAddr.Parse("fe80::1").IsV6LinkLocal);
        Assert.False(IpAddr.Parse("fec0::1").IsV6LinkLocal);
        Assert.True(IpAddr.V6Any.IsUnspecified && IpAddr.V4Any.IsUnspecified);
        Assert.False(IpAddr.Parse("::1").IsUnspecified);
        Assert.Equal(0x0A0B0C0Du, IpAddr.Parse("10.11.12.13").V4);
    }

    [Fact]
    public void The_v4_and_v6_default_routes_are_different_prefixes()
    {
        var v4 = Prefix.Parse("0.0.0.0/0");
        var v6 = Prefix.Parse("::/0");
        Assert.NotEqual(v4, v6);
        Assert.Equal(2, new HashSet<Prefix> { v4, v6 }.Count);
        Assert.False(v4.IsV6);
        Assert.True(v6.IsV6);
        Assert.True(v4.Contains(IpAddr.Parse("8.8.8.8")));
        Assert.False(v4.Contains(IpAddr.Parse("::1")));
        Assert.True(v6.Contains(IpAddr.Parse("::ffff:8.8.8.8")));
        Assert.False(v6.Contains(IpAddr.Parse("8.8.8.8")));
        Assert.True(v4.CompareTo(v6) < 0);
    }

    [Theory]
    [InlineData("1.2.3.4/32", "::ffff:1.2.3.4/128")]
    [InlineData("10.0.0.0/8", "::a00:0/8")]
    [InlineData("10.0.0.0/8", "10.0.0.0/9")]
    public void Prefixes_differ_by_family_and_length(string a, string b) =>
        Assert.NotEqual(Prefix.Parse(a), Prefix.Parse(b));

    [Theory]
    [InlineData("10.233.89.77/24")]
    [InlineData("fd00:1:2:3:4:5:6:7/64")]
    [InlineData("fd00:1:2:3:4:5:6:7/65")]
    [InlineData("fd00:1:2:3:4:5:6:7/127")]
    [InlineData("::ffff:10.1.2.3/120")]
    public void Equal_prefixes_made_apart_have_equal_hashes(string text)
    {
        var parsed = Prefix.Parse(text);
        var rebuilt = new Prefix(parsed.Address, parsed.Length);
        Assert.Equal(parsed, rebuilt);
        Assert.Equal(parsed.GetHashCode(), rebuilt.GetHashCode());
        Assert.False(Prefix.HasHostBits(parsed.Address, parsed.Length));
    }
}
