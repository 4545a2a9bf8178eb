using Calico.Bgp.Rib;
using Calico.Bgp.Speaker.Wire;

namespace Calico.Bgp.Speaker.Tests;

/// <summary>
/// The per-route paths made cheaper for P1: <see cref="NlriReader.Validate"/> walking lengths only,
/// and <see cref="NlriReader.Write"/> writing the address in whole words, each compared with what it
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
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Write_then_read_gives_every_length_back_with_room_to_spare_or_none(bool addPath, bool v6)
    {
        var random = new Random(4);
        var roomy = new byte[64];
        for (var length = 0; length <= (v6 ? 128 : 32); length++)
        {
            var prefix = v6
                ? Prefix.FromV6((ulong)random.NextInt64() << 1 | 1, (ulong)random.NextInt64() << 1 | 1, length)
                : Prefix.FromV4((uint)random.NextInt64(0, 1L << 32), length);
            var nlri = new Nlri(prefix, addPath ? 77u : 0);
            var size = NlriReader.EncodedLength(prefix, addPath);
            // With room past the entry the address goes in whole words (scratch may follow the entry);
            // in a buffer of the entry's own size, byte by byte. The entry's bytes are the same.
            var n = NlriReader.Write(roomy, nlri, addPath);
            var exact = new byte[size];
            Assert.Equal(size, NlriReader.Write(exact, nlri, addPath));
            Assert.Equal(size, n);
            Assert.Equal(exact, roomy[..n]);
            var r = new NlriReader(exact, v6, addPath);
            Assert.True(r.MoveNext());
            Assert.Equal(nlri, r.Current);
            Assert.False(r.MoveNext());
            Assert.False(r.Malformed);
        }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Reading_a_field_of_many_entries_gives_each_prefix_from_its_own_bytes_with_trailing_bits_cleared(bool addPath, bool v6)
    {
        var random = new Random(9);
        for (var round = 0; round < 500; round++)
        {
            var bytes = new List<byte>();
            var expected = new List<Nlri>();
            var entries = random.Next(1, 12);
            for (var e = 0; e < entries; e++)
            {
                var pathId = (uint)random.Next();
                if (addPath)
                    bytes.AddRange([(byte)(pathId >> 24), (byte)(pathId >> 16), (byte)(pathId >> 8), (byte)pathId]);
                var bits = random.Next((v6 ? 128 : 32) + 1);
                bytes.Add((byte)bits);
                // Random bytes, trailing bits of the last one included (RFC 4271 §4.3: they are irrelevant).
                var address = new byte[16];
                for (var k = 0; k < (bits + 7) / 8; k++)
                    bytes.Add(address[k] = (byte)random.Next(256));
                var hi = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(address);
                var lo = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(address.AsSpan(8));
                var prefix = v6 ? Prefix.FromV6(hi, lo, bits) : Prefix.FromV4((uint)(hi >> 32), bits);
                expected.Add(new Nlri(prefix, addPath ? pathId : 0));
            }
            var read = new List<Nlri>();
            var r = new NlriReader(bytes.ToArray(), v6, addPath);
            while (r.MoveNext())
                read.Add(r.Current);
            Assert.False(r.Malformed);
            Assert.Equal(expected, read);
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
