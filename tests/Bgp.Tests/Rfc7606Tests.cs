using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>One row per RFC 7606 rule: attribute bytes in, action out.</summary>
public class Rfc7606Tests
{
    private const string Base = "40010100 400200 4003040A000002";

    [Theory]
    // §7.1 ORIGIN: bad value / bad length → treat-as-withdraw
    [InlineData("400101 03", ErrorAction.TreatAsWithdraw, 6)]
    [InlineData("400102 0000", ErrorAction.TreatAsWithdraw, 6)]
    // §7.2 AS_PATH malformed (segment overrun) → treat-as-withdraw
    [InlineData("400204 0203 0001", ErrorAction.TreatAsWithdraw, 11)]
    // §7.3 NEXT_HOP bad length → treat-as-withdraw
    [InlineData("400303 0A0000", ErrorAction.TreatAsWithdraw, 5)]
    // §7.4 MED bad length → treat-as-withdraw
    [InlineData("800402 0001", ErrorAction.TreatAsWithdraw, 5)]
    // §7.5 LOCAL_PREF bad length → treat-as-withdraw
    [InlineData("400502 0001", ErrorAction.TreatAsWithdraw, 5)]
    // §7.6 ATOMIC_AGGREGATE with data → attribute discard
    [InlineData("400601 00", ErrorAction.AttributeDiscard, 5)]
    // §7.7 AGGREGATOR bad length → attribute discard
    [InlineData("C00703 000102", ErrorAction.AttributeDiscard, 5)]
    // §7.8 COMMUNITIES not a multiple of 4 → treat-as-withdraw
    [InlineData("C00803 000102", ErrorAction.TreatAsWithdraw, 9)]
    // §7.9 ORIGINATOR_ID bad length → treat-as-withdraw
    [InlineData("800903 000102", ErrorAction.TreatAsWithdraw, 5)]
    // §7.10 CLUSTER_LIST not a multiple of 4 → treat-as-withdraw
    [InlineData("800A03 000102", ErrorAction.TreatAsWithdraw, 5)]
    // §7.11 MP_REACH_NLRI malformed → session reset
    [InlineData("800E02 0002", ErrorAction.SessionReset, 9)]
    // §7.14 EXTENDED_COMMUNITIES not a multiple of 8 → treat-as-withdraw
    [InlineData("C01004 00010203", ErrorAction.TreatAsWithdraw, 9)]
    // RFC 8092 §6 LARGE_COMMUNITY not a multiple of 12 → treat-as-withdraw
    [InlineData("C02004 00010203", ErrorAction.TreatAsWithdraw, 9)]
    // §3 c) wrong flags on a known attribute → treat-as-withdraw
    [InlineData("C00404 00000001", ErrorAction.TreatAsWithdraw, 4)]
    // RFC 6793 §6 malformed AS4_PATH → attribute discard
    [InlineData("C01103 020100", ErrorAction.AttributeDiscard, 11)]
    // RFC 4271 §6.3 unrecognized well-known attribute → session reset
    [InlineData("405001 00", ErrorAction.SessionReset, 2)]
    // Unknown optional non-transitive → silently ignored
    [InlineData("805001 00", ErrorAction.None, 0)]
    public void Malformed_attribute_gets_the_rfc_action(string extra, ErrorAction action, byte subcode)
    {
        var bytes = Convert.FromHexString(extra.Replace(" ", "") + Base.Replace(" ", ""));
        var d = AttributeDecoder.Decode(bytes, BgpCodec.Default, new DecodeContext(true, IpAddr.Parse("10.0.0.2")), true);
        Assert.Equal(action, d.Action);
        if (action != ErrorAction.None)
        {
            Assert.Equal(NotificationCode.UpdateMessageError, d.Error!.Value.Code);
            Assert.Equal(subcode, d.Error.Value.Subcode);
        }
    }

    [Fact]
    public void Duplicate_attribute_is_discarded_keeping_the_first()
    {
        var bytes = Convert.FromHexString("40010102" + Base.Replace(" ", ""));
        var d = AttributeDecoder.Decode(bytes, BgpCodec.Default, new DecodeContext(true, IpAddr.Parse("10.0.0.2")), true);
        Assert.Equal(ErrorAction.AttributeDiscard, d.Action);
        Assert.Equal(BgpOrigin.Incomplete, d.Attributes.Origin);
    }

    [Fact]
    public void Missing_mandatory_attribute_is_treat_as_withdraw()
    {
        var bytes = Convert.FromHexString("40010100");
        var d = AttributeDecoder.Decode(bytes, BgpCodec.Default, new DecodeContext(true, IpAddr.Parse("10.0.0.2")), true);
        Assert.Equal(ErrorAction.TreatAsWithdraw, d.Action);
        Assert.Equal((byte)UpdateErrorSubcode.MissingWellKnownAttribute, d.Error!.Value.Subcode);
    }

    [Fact]
    public void Attribute_length_overrun_is_treat_as_withdraw()
    {
        var bytes = Convert.FromHexString(Base.Replace(" ", "") + "C008100001");
        var d = AttributeDecoder.Decode(bytes, BgpCodec.Default, new DecodeContext(true, IpAddr.Parse("10.0.0.2")), true);
        Assert.Equal(ErrorAction.TreatAsWithdraw, d.Action);
    }

    [Fact]
    public void Local_pref_from_an_external_peer_is_discarded()
    {
        var bytes = Convert.FromHexString("4005040000000A" + Base.Replace(" ", ""));
        var d = AttributeDecoder.Decode(bytes, BgpCodec.Default, new DecodeContext(false, IpAddr.Parse("10.0.0.2")), true);
        Assert.Equal(ErrorAction.AttributeDiscard, d.Action);
        Assert.Null(d.Attributes.LocalPref);
    }

    [Fact]
    public void Unknown_optional_transitive_is_kept_with_partial_set()
    {
        var bytes = Convert.FromHexString("C063020102" + Base.Replace(" ", ""));
        var d = AttributeDecoder.Decode(bytes, BgpCodec.Default, new DecodeContext(true, IpAddr.Parse("10.0.0.2")), true);
        Assert.Equal(ErrorAction.None, d.Action);
        var u = Assert.Single(d.Attributes.Unknown);
        Assert.Equal(0xE0, u.Flags);
        Assert.Equal(99, u.TypeCode);
    }
}
