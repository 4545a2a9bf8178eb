using Calico.Bgp.Rib;

namespace Calico.Bgp.Rib.Tests;

public class PrefixTests
{
    [Theory]
    [InlineData("10.233.89.0/24", "10.233.89.0/24")]
    [InlineData("10.233.89.77/24", "10.233.89.0/24")]
    [InlineData("0.0.0.0/0", "0.0.0.0/0")]
    [InlineData("192.168.1.1/32", "192.168.1.1/32")]
    [InlineData("fd00:1:2::5/48", "fd00:1:2::/48")]
    [InlineData("::/0", "::/0")]
    public void Parse_clears_host_bits_and_formats_back(string text, string expected)
    {
        Assert.True(Prefix.TryParse(text, out var p));
        Assert.Equal(expected, p.ToString());
    }

    [Theory]
    [InlineData("10.0.0.0")]
    [InlineData("10.0.0.0/33")]
    [InlineData("10.0/8")]
    [InlineData("300.0.0.0/8")]
    [InlineData("fd00::/129")]
    [InlineData("10.0.0.0/-1")]
    public void Parse_rejects_bad_prefixes(string text) => Assert.False(Prefix.TryParse(text, out _));

    [Theory]
    [InlineData("10.233.89.0/24", "10.233.0.0/16", true)]
    [InlineData("10.233.0.0/16", "10.233.0.0/16", true)]
    [InlineData("10.0.0.0/8", "10.233.0.0/16", false)]
    [InlineData("11.0.0.0/24", "10.0.0.0/8", false)]
    [InlineData("fd00:1::/64", "fd00::/16", true)]
    [InlineData("10.0.0.0/24", "::/0", false)]
    public void IsWithin_is_BIRDs_net_tilde(string inner, string outer, bool expected) =>
        Assert.Equal(expected, Prefix.Parse(inner).IsWithin(Prefix.Parse(outer)));

    [Fact]
    public void Addresses_round_trip_through_bytes()
    {
        var v4 = IpAddr.Parse("172.16.0.120");
        Span<byte> b = stackalloc byte[16];
        Assert.Equal(4, v4.WriteBytes(b));
        Assert.Equal(v4, IpAddr.FromBytes(b[..4]));
        var v6 = IpAddr.Parse("fe80::1");
        Assert.Equal(16, v6.WriteBytes(b));
        Assert.Equal(v6, IpAddr.FromBytes(b));
        Assert.True(v6.IsV6LinkLocal);
        Assert.False(IpAddr.Parse("2001:db8::1").IsV6LinkLocal);
        Assert.Equal("fe80::1", v6.ToString());
    }

    [Fact]
    public void IPv4_sorts_before_IPv6_and_numerically()
    {
        var list = new[] { "10.0.0.2", "::1", "9.255.255.255", "10.0.0.10" }.Select(IpAddr.Parse).Order().Select(a => a.ToString());
        Assert.Equal(["9.255.255.255", "10.0.0.2", "10.0.0.10", "::1"], list);
    }

    [Theory]
    [InlineData("10")]
    [InlineData("10.1")]
    [InlineData("fe80::1%2")]
    [InlineData("")]
    public void Only_full_addresses_parse(string text) => Assert.False(IpAddr.TryParse(text, out _));

    [Fact]
    public void The_numeric_factories_match_the_general_constructor_for_every_length()
    {
        var random = new Random(4271);
        Span<byte> bytes = stackalloc byte[16];
        for (var i = 0; i < 2000; i++)
        {
            random.NextBytes(bytes);
            var v4 = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes);
            var len4 = i % 33;
            Assert.Equal(new Prefix(IpAddr.FromBytes(bytes[..4]), len4), Prefix.FromV4(v4, len4));
            var hi = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes);
            var lo = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
            var len6 = i % 129;
            var general = new Prefix(IpAddr.FromBytes(bytes), len6);
            var fast = Prefix.FromV6(hi, lo, len6);
            Assert.Equal(general, fast);
            Assert.Equal(general.ToString(), fast.ToString());
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => Prefix.FromV4(0, 33));
        Assert.Throws<ArgumentOutOfRangeException>(() => Prefix.FromV6(0, 0, 129));
    }
}
