using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>
/// The per-route paths made cheaper for P1: <see cref="NlriReader.Validate"/> walking lengths only,
/// and <see cref="NlriReader.Write"/> writing IPv4 straight from its value, each compared with what it
/// replaced on random and edge inputs (<see cref="PrefixHash.Of"/> on two words: tests/Rib.Tests PrefixHashTests).
/// </summary>
public class NlriFastPathTests
{
    /// <summary>What Validate was: the reader run to the end.</summary>
    private static bool ReaderAccepts(byte[] data, bool v6, bool addPath)
    {
        var r = new NlriReader(data, v6, addPath);
        while (r.MoveNext())
        {
        }
        return !r.Malformed;
    }

    [Fact]
    public void Validate_agrees_with_the_reader_on_random_and_cut_fields()
    {
        var random = new Random(6);
        var accepted = 0;
        for (var round = 0; round < 20_000; round++)
        {
            var v6 = random.Next(2) == 0;
            var addPath = random.Next(3) == 0;
            // Mostly well-formed fields, then cut or with a length out of range.
            var bytes = new List<byte>();
            var entries = random.Next(5);
            for (var e = 0; e < entries; e++)
            {
                if (addPath)
                    bytes.AddRange([0, 0, 0, (byte)random.Next(4)]);
                var bits = random.Next(10) == 0 ? random.Next(256) : random.Next((v6 ? 128 : 32) + 1);
                bytes.Add((byte)bits);
                for (var k = 0; k < (bits + 7) / 8 && k < 32; k++)
                    bytes.Add((byte)random.Next(256));
            }
            var data = bytes.ToArray();
            if (data.Length > 0 && random.Next(4) == 0)
                data = data[..random.Next(data.Length)];
            var expected = ReaderAccepts(data, v6, addPath);
            Assert.Equal(expected, NlriReader.Validate(data, v6, addPath));
            accepted += expected ? 1 : 0;
        }
        // Both answers were met often.
        Assert.InRange(accepted, 2_000, 18_000);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Write_then_read_gives_every_IPv4_length_back(bool addPath)
    {
        var random = new Random(4);
        var buffer = new byte[64];
        for (var length = 0; length <= 32; length++)
        {
            var prefix = Prefix.FromV4((uint)random.NextInt64(0, 1L << 32), length);
            var nlri = new Nlri(prefix, addPath ? 77u : 0);
            Array.Fill(buffer, (byte)0xEE);
            var n = NlriReader.Write(buffer, nlri, addPath);
            Assert.Equal(NlriReader.EncodedLength(prefix, addPath), n);
            // Nothing written past the entry.
            Assert.Equal(0xEE, buffer[n]);
            var r = new NlriReader(buffer.AsSpan(0, n), false, addPath);
            Assert.True(r.MoveNext());
            Assert.Equal(nlri, r.Current);
            Assert.False(r.MoveNext());
            Assert.False(r.Malformed);
        }
    }

    [Fact]
    public void Write_keeps_the_bytes_of_a_24_in_network_order()
    {
        var buffer = new byte[8];
        var n = NlriReader.Write(buffer, new Nlri(Prefix.Parse("10.20.30.0/24")), false);
        Assert.Equal(new byte[] { 24, 10, 20, 30 }, buffer[..n]);
    }
}
