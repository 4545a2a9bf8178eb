using System.Buffers.Binary;
using Calico.Bgp.Fib.Netlink;

namespace Calico.Bgp.Fib.Tests;

/// <summary>
/// Crashes the netlink fuzz target (fuzz/, docs/reliability.md) found, pinned as tests: a datagram
/// the kernel never sends must still parse to a result, not an exception.
/// </summary>
public class NetlinkFuzzRegressionTests
{
    [Theory]
    [InlineData(0xFFFFFFF0u)] // negative as an int: the skip went backwards
    [InlineData(0x7FFFFFF0u)] // past the end of the datagram
    [InlineData(4u)] // shorter than the header it claims to be
    public void Error_ack_whose_echoed_request_length_is_nonsense_still_parses(uint echoedLength)
    {
        var datagram = ErrorAck(echoedLength, flags: Nl.FAckTlvs);
        var result = Parse(datagram);
        Assert.Equal(17, result.Errno);
        Assert.Null(result.Message);
    }

    [Fact]
    public void Fuzzer_crash_input_parses_as_an_error_without_a_message()
    {
        // fuzz/corpus/netlink/crash-error-ack-negative-skip, byte for byte (afl-fuzz, netlink target):
        // NLMSG_ERROR with NLM_F_ACK_TLVS whose echoed request claims 0x807F0019 bytes (negative as an int).
        var datagram = Convert.FromHexString("340000000200021A0000FE0CFF0000000001000019007F80FF00000000000200021A0000FE0C100000000000080000000AE9440008000F00FE0000000800060064000001");
        var result = Parse(datagram);
        Assert.False(result.IsOk);
        Assert.Null(result.Message);
    }

    [Fact]
    public void Error_ack_with_a_well_formed_echo_keeps_the_kernel_message()
    {
        var datagram = ErrorAck(Nl.HeaderLength, flags: Nl.FAckTlvs, text: "Nexthop has invalid gateway");
        var result = Parse(datagram);
        Assert.Equal(17, result.Errno);
        Assert.Equal("Nexthop has invalid gateway", result.Message);
    }

    private static NetlinkResult Parse(byte[] datagram)
    {
        var reader = new NetlinkMessageReader(datagram);
        Assert.True(reader.MoveNext());
        Assert.Equal(Nl.Error, reader.Current.Type);
        return NetlinkResult.Parse(reader.Current);
    }

    /// <summary>NLMSG_ERROR for EEXIST echoing a request header whose length is <paramref name="echoedLength"/>.</summary>
    private static byte[] ErrorAck(uint echoedLength, ushort flags, string? text = null)
    {
        using var w = new NetlinkWriter(256);
        w.BeginMessage(Nl.Error, flags, 3);
        var e = w.Reserve(4 + Nl.HeaderLength);
        BinaryPrimitives.WriteInt32LittleEndian(e, -17);
        BinaryPrimitives.WriteUInt32LittleEndian(e[4..], echoedLength);
        BinaryPrimitives.WriteUInt16LittleEndian(e[8..], Rtnl.NewRoute);
        if (text is not null)
            w.Attribute(Nl.ErrAttrMsg, System.Text.Encoding.UTF8.GetBytes(text + "\0"));
        else
            w.Reserve(8);
        w.EndMessage();
        return w.Written.ToArray();
    }
}
