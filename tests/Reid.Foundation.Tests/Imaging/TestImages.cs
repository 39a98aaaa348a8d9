using System.Buffers.Binary;
using System.IO.Compression;
using Reid.Imaging;

namespace Reid.Foundation.Tests.Imaging;

/// <summary>Synthetic images and a raw PNG writer (any colour type, bit depth, filter, Adam7) for decoder tests.</summary>
internal static class TestImages
{
    /// <summary>A smooth colour gradient with a bright square: JPEG-friendly, and asymmetric so flips show.</summary>
    public static RgbImage Gradient(int width, int height)
    {
        var img = RgbImage.Blank(width, height);
        for (var y = 0; y < height; y++)
        for (var x = 0; x < width; x++)
        {
            var i = 3 * (y * width + x);
            img.Pixels[i] = (byte)(255 * x / Math.Max(1, width - 1));
            img.Pixels[i + 1] = (byte)(255 * y / Math.Max(1, height - 1));
            img.Pixels[i + 2] = (byte)(x < width / 3 && y < height / 3 ? 230 : 40);
        }
        return img;
    }

    public static RgbImage Random(int width, int height, int seed)
    {
        var img = RgbImage.Blank(width, height);
        new Random(seed).NextBytes(img.Pixels);
        return img;
    }

    public static RgbImage Solid(int width, int height, byte r, byte g, byte b)
    {
        var img = RgbImage.Blank(width, height);
        for (var i = 0; i < img.Pixels.Length; i += 3) (img.Pixels[i], img.Pixels[i + 1], img.Pixels[i + 2]) = (r, g, b);
        return img;
    }

    /// <summary>
    /// Writes a PNG from per-pixel samples: <paramref name="sample"/>(x, y, channel) gives each raw sample
    /// (0..2^depth-1). Rows use filter types 0..4 in turn so every unfilter path is exercised.
    /// </summary>
    public static byte[] Png(int width, int height, int colorType, int depth, Func<int, int, int, int> sample,
        bool interlaced = false, byte[]? palette = null, int? declaredWidth = null, int? declaredHeight = null)
    {
        var channels = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        var bitsPerPixel = channels * depth;
        var bpp = Math.Max(1, bitsPerPixel / 8);
        using var raw = new MemoryStream();
        var passes = interlaced
            ? new[] { (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2) }
            : new[] { (0, 0, 1, 1) };
        var filterIndex = 0;
        foreach (var (x0, y0, dx, dy) in passes)
        {
            var pw = (width - x0 + dx - 1) / dx;
            var ph = (height - y0 + dy - 1) / dy;
            if (pw <= 0 || ph <= 0) continue;
            var rowBytes = (pw * bitsPerPixel + 7) / 8;
            var prev = new byte[rowBytes];
            for (var py = 0; py < ph; py++)
            {
                var row = new byte[rowBytes];
                var bit = 0;
                for (var px = 0; px < pw; px++)
                for (var c = 0; c < channels; c++)
                {
                    var v = sample(x0 + px * dx, y0 + py * dy, c);
                    if (depth == 16) { row[bit / 8] = (byte)(v >> 8); row[bit / 8 + 1] = (byte)v; }
                    else if (depth == 8) row[bit / 8] = (byte)v;
                    else row[bit / 8] |= (byte)(v << (8 - depth - bit % 8));
                    bit += depth;
                }
                var filter = (byte)(filterIndex++ % 5);
                raw.WriteByte(filter);
                raw.Write(Filter(filter, row, prev, bpp));
                prev = row;
            }
        }
        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, declaredWidth ?? width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), declaredHeight ?? height);
        ihdr[8] = (byte)depth; ihdr[9] = (byte)colorType; ihdr[12] = (byte)(interlaced ? 1 : 0);
        Chunk(png, "IHDR", ihdr);
        if (palette is not null) Chunk(png, "PLTE", palette);
        using var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Fastest, true)) zs.Write(raw.ToArray());
        Chunk(png, "IDAT", z.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static byte[] Filter(byte type, byte[] row, byte[] up, int bpp)
    {
        var o = new byte[row.Length];
        for (var i = 0; i < row.Length; i++)
        {
            int a = i >= bpp ? row[i - bpp] : 0, b = up[i], c = i >= bpp ? up[i - bpp] : 0;
            int pred = type switch
            {
                0 => 0, 1 => a, 2 => b, 3 => (a + b) / 2,
                _ => Math.Abs(b - c) <= Math.Abs(a - c) && Math.Abs(b - c) <= Math.Abs(a + b - 2 * c) ? a
                    : Math.Abs(a - c) <= Math.Abs(a + b - 2 * c) ? b : c,
            };
            o[i] = (byte)(row[i] - pred);
        }
        return o;
    }

    private static void Chunk(Stream s, string type, byte[] body)
    {
        var word = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, body.Length);
        s.Write(word);
        var typed = System.Text.Encoding.ASCII.GetBytes(type).Concat(body).ToArray();
        s.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc(typed));
        s.Write(word);
    }

    /// <summary>Bit-at-a-time CRC-32, independent of the decoder's table-driven one.</summary>
    public static uint Crc(byte[] data)
    {
        var c = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            c ^= b;
            for (var k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (uint)-(int)(c & 1));
        }
        return ~c;
    }
}
