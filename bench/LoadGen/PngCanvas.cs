using System.Buffers.Binary;
using System.IO.Compression;

namespace Calico.Bgp.LoadGen;

/// <summary>
/// An RGB raster with line drawing and a minimal PNG encoder (signature, IHDR, one zlib IDAT, IEND;
/// filter 0 on every row), so plots need no package beyond the framework.
/// </summary>
public sealed class PngCanvas
{
    private readonly int _width;
    private readonly int _height;
    private readonly byte[] _rgb;

    public PngCanvas(int width, int height)
    {
        _width = width;
        _height = height;
        _rgb = new byte[width * height * 3];
        Array.Fill(_rgb, (byte)255);
    }

    public void Set(int x, int y, byte r, byte g, byte b)
    {
        if ((uint)x >= (uint)_width || (uint)y >= (uint)_height)
            return;
        var o = ((y * _width) + x) * 3;
        _rgb[o] = r;
        _rgb[o + 1] = g;
        _rgb[o + 2] = b;
    }

    /// <summary>Bresenham; <paramref name="thick"/> draws a 2-pixel line so curves stand out from the grid.</summary>
    public void Line(int x0, int y0, int x1, int y1, byte r, byte g, byte b, bool thick = false)
    {
        int dx = Math.Abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
        int dy = -Math.Abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
        var err = dx + dy;
        while (true)
        {
            Set(x0, y0, r, g, b);
            if (thick)
            {
                Set(x0 + 1, y0, r, g, b);
                Set(x0, y0 - 1, r, g, b);
            }
            if (x0 == x1 && y0 == y1)
                break;
            var e2 = 2 * err;
            if (e2 >= dy)
            {
                err += dy;
                x0 += sx;
            }
            if (e2 <= dx)
            {
                err += dx;
                y0 += sy;
            }
        }
    }

    public byte[] Encode()
    {
        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, _width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), _height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // colour type: truecolour
        Chunk(png, "IHDR", ihdr);
        using var raw = new MemoryStream();
        using (var z = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true))
        {
            for (var y = 0; y < _height; y++)
            {
                z.WriteByte(0); // filter: none
                z.Write(_rgb, y * _width * 3, _width * 3);
            }
        }
        Chunk(png, "IDAT", raw.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    // CRC-32 (ISO 3309, as PNG asks), table-driven; System.IO.Hashing is a package, not framework.
    private static readonly uint[] CrcTable = [.. Enumerable.Range(0, 256).Select(n =>
    {
        var c = (uint)n;
        for (var k = 0; k < 8; k++)
            c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    })];

    private static uint Crc(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (var b in data)
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        s.Write(len);
        var typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
        s.Write(typeBytes);
        s.Write(data);
        Span<byte> c = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(c, ~Crc(Crc(0xFFFFFFFFu, typeBytes), data));
        s.Write(c);
    }
}
