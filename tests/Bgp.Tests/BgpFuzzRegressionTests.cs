using System.Buffers;
using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>
/// What the bgp fuzz target (fuzz/, docs/reliability.md) checks, pinned as tests: the frame reader
/// refuses an oversized length from the header alone, and option prints keep the MD5 key out.
/// </summary>
public class BgpFuzzRegressionTests
{
    [Theory]
    [InlineData(false, BgpConstants.MaxMessageLength + 1)]
    [InlineData(false, 65535)]
    [InlineData(true, 65535)]
    public void Frame_reader_decides_on_the_length_before_the_body_is_there(bool extended, int length)
    {
        var codec = new BgpCodec(true, extended, AddPathMode.None, AddPathMode.None);
        var header = new byte[BgpConstants.HeaderLength];
        FrameReader.WriteHeader(header, MessageType.Update, length - BgpConstants.HeaderLength);
        var buffer = new ReadOnlySequence<byte>(header);
        var framed = FrameReader.TryRead(ref buffer, codec.MaxMessageLength, out _, out var error);
        Assert.False(framed);
        if (length > codec.MaxMessageLength)
        {
            // Refused now: nothing of the body is waited for or buffered.
            Assert.Equal(BgpError.Header(HeaderErrorSubcode.BadMessageLength).Code, error?.Code);
            Assert.Equal((byte)HeaderErrorSubcode.BadMessageLength, error?.Subcode);
        }
        else
        {
            // Within the negotiated bound: the reader waits for the body (at most 65535 bytes).
            Assert.Null(error);
            Assert.Equal(BgpConstants.HeaderLength, buffer.Length);
        }
    }

    [Fact]
    public void Options_print_does_not_show_the_md5_password()
    {
        var options = new BgpProtocolOptions
        {
            Name = "Mesh_10_0_0_2",
            RouterId = 0x0A000001,
            LocalAs = 64512,
            PeerAs = 64512,
            NeighborAddress = IpAddr.Parse("10.0.0.2"),
            Password = "s3cr3t-md5-key",
        };
        var text = options.ToString();
        Assert.DoesNotContain("s3cr3t-md5-key", text, StringComparison.Ordinal);
        Assert.Contains($"Password = {BgpProtocolOptions.RedactedPassword}", text, StringComparison.Ordinal);
        // Every other property still prints, as the generated print would.
        foreach (var p in typeof(BgpProtocolOptions).GetProperties())
            Assert.Contains(p.Name + " = ", text, StringComparison.Ordinal);
        Assert.Contains("NeighborAddress = 10.0.0.2", text, StringComparison.Ordinal);
        Assert.StartsWith("BgpProtocolOptions { Name = Mesh_10_0_0_2, ", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_without_a_password_print_it_empty_and_compare_by_value()
    {
        var a = new BgpProtocolOptions { Name = "p", RouterId = 1, LocalAs = 1, PeerAs = 2, NeighborAddress = IpAddr.Parse("10.0.0.2") };
        Assert.Contains("Password = ,", a.ToString(), StringComparison.Ordinal);
        // The custom print leaves the generated equality alone.
        Assert.Equal(a, a with { });
        Assert.NotEqual(a, a with { Password = "x" });
    }
}
