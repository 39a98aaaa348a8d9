using System.Buffers.Binary;
using System.IO.Compression;

namespace Reid.Imaging;

/// <summary>
/// PNG decode (all colour types and bit depths of the standard, Adam7 interlace, CRC checked) and a plain
/// 8-bit RGB encoder, on System.IO.Compression's zlib. Alpha is dropped (crops are composited by the camera,
/// not by us); 16-bit samples keep their high byte.
/// </summary>
internal static class PngCodec
{
    public static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private const int Gray = 0, Rgb = 2, Palette = 3, GrayAlpha = 4, Rgba = 6;

    private readonly record struct Header(int Width, int Height, int BitDepth, int ColorType, bool Interlaced)
    {
        public int Channels => ColorType switch { Gray => 1, Rgb => 3, Palette => 1, GrayAlpha => 2, _ => 4 };
        public int BitsPerPixel => Channels * BitDepth;
        public int BytesPerPixel => Math.Max(1, BitsPerPixel / 8);   // the filter's "bpp", at least one byte
        public long RowBytes(int width) => ((long)width * BitsPerPixel + 7) / 8;
    }

    public static RgbImage Decode(ReadOnlySpan<byte> data, string name, long maxPixels)
    {
        if (data.Length < Signature.Length || !data[..Signature.Length].SequenceEqual(Signature))
            throw new ImageDecodeException(name, "not a PNG file");
        var pos = Signature.Length;
        Header? header = null;
        byte[]? palette = null;
        using var idat = new MemoryStream();
        var sawEnd = false;
        while (!sawEnd)
        {
            if (pos + 12 > data.Length) throw new ImageDecodeException(name, "truncated PNG (chunk cut short, no IEND)");
            var length = BinaryPrimitives.ReadUInt32BigEndian(data[pos..]);
            if (length > int.MaxValue || pos + 12L + length > data.Length)
                throw new ImageDecodeException(name, "truncated PNG (chunk longer than the file)");
            var type = data.Slice(pos + 4, 4);
            var body = data.Slice(pos + 8, (int)length);
            var crc = BinaryPrimitives.ReadUInt32BigEndian(data[(pos + 8 + (int)length)..]);
            if (Crc32.Compute(data.Slice(pos + 4, 4 + (int)length)) != crc)
                throw new ImageDecodeException(name, $"corrupt PNG (CRC mismatch in chunk {System.Text.Encoding.ASCII.GetString(type)})");
            pos += 12 + (int)length;

            if (type.SequenceEqual("IHDR"u8)) header = ReadHeader(body, name, maxPixels);
            else if (header is null) throw new ImageDecodeException(name, "corrupt PNG (first chunk is not IHDR)");
            else if (type.SequenceEqual("PLTE"u8))
            {
                if (length % 3 != 0 || length == 0 || length > 768) throw new ImageDecodeException(name, "corrupt PNG (bad palette)");
                palette = body.ToArray();
            }
            else if (type.SequenceEqual("IDAT"u8)) idat.Write(body);
            else if (type.SequenceEqual("IEND"u8)) sawEnd = true;
            else if ((type[0] & 0x20) == 0)   // an unknown critical chunk: we cannot render the image correctly
                throw new ImageDecodeException(name, $"unsupported PNG (critical chunk {System.Text.Encoding.ASCII.GetString(type)})");
        }
        var h = header!.Value;
        if (h.ColorType == Palette && palette is null) throw new ImageDecodeException(name, "corrupt PNG (palette image without PLTE)");

        var rawLength = RawLength(h);
        var raw = new byte[rawLength];
        idat.Position = 0;
        try
        {
            using var z = new ZLibStream(idat, CompressionMode.Decompress);
            z.ReadExactly(raw);
        }
        catch (EndOfStreamException) { throw new ImageDecodeException(name, "truncated PNG (image data ends early)"); }
        catch (InvalidDataException e) { throw new ImageDecodeException(name, $"corrupt PNG (bad zlib data: {e.Message})", e); }

        var pixels = new byte[3L * h.Width * h.Height];
        var offset = 0;
        if (!h.Interlaced)
            Unpack(h, raw, ref offset, h.Width, h.Height, pixels, 0, 0, 1, 1, palette, name);
        else
            foreach (var (x0, y0, dx, dy) in Adam7)
            {
                var pw = (h.Width - x0 + dx - 1) / dx;
                var ph = (h.Height - y0 + dy - 1) / dy;
                if (pw > 0 && ph > 0) Unpack(h, raw, ref offset, pw, ph, pixels, x0, y0, dx, dy, palette, name);
            }
        return new RgbImage(h.Width, h.Height, pixels);
    }

    private static readonly (int X0, int Y0, int Dx, int Dy)[] Adam7 =
        [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];

    private static Header ReadHeader(ReadOnlySpan<byte> b, string name, long maxPixels)
    {
        if (b.Length != 13) throw new ImageDecodeException(name, "corrupt PNG (bad IHDR)");
        var w = BinaryPrimitives.ReadUInt32BigEndian(b);
        var hgt = BinaryPrimitives.ReadUInt32BigEndian(b[4..]);
        int depth = b[8], color = b[9], compression = b[10], filter = b[11], interlace = b[12];
        if (w == 0 || hgt == 0 || w > int.MaxValue || hgt > int.MaxValue)
            throw new ImageDecodeException(name, $"corrupt PNG (size {w}x{hgt})");
        ImageCodec.CheckSize(name, (int)w, (int)hgt, maxPixels);
        var ok = color switch
        {
            Gray => depth is 1 or 2 or 4 or 8 or 16,
            Palette => depth is 1 or 2 or 4 or 8,
            Rgb or GrayAlpha or Rgba => depth is 8 or 16,
            _ => false,
        };
        if (!ok) throw new ImageDecodeException(name, $"corrupt PNG (colour type {color} with bit depth {depth})");
        if (compression != 0 || filter != 0 || interlace > 1) throw new ImageDecodeException(name, "corrupt PNG (unknown compression, filter or interlace method)");
        return new Header((int)w, (int)hgt, depth, color, interlace == 1);
    }

    private static int RawLength(Header h)
    {
        long total = 0;
        if (!h.Interlaced) total = h.Height * (1 + h.RowBytes(h.Width));
        else
            foreach (var (x0, y0, dx, dy) in Adam7)
            {
                long pw = (h.Width - x0 + dx - 1) / dx, ph = (h.Height - y0 + dy - 1) / dy;
                if (pw > 0 && ph > 0) total += ph * (1 + h.RowBytes((int)pw));
            }
        return checked((int)total);
    }

    /// <summary>Unfilters one (sub)image of <paramref name="w"/>x<paramref name="h"/> and scatters it into the RGB output.</summary>
    private static void Unpack(Header hd, byte[] raw, ref int offset, int w, int h, byte[] rgb,
        int x0, int y0, int dx, int dy, byte[]? palette, string name)
    {
        var rowBytes = (int)hd.RowBytes(w);
        var bpp = hd.BytesPerPixel;
        var previous = new byte[rowBytes];
        var current = new byte[rowBytes];
        for (var y = 0; y < h; y++)
        {
            var filter = raw[offset];
            raw.AsSpan(offset + 1, rowBytes).CopyTo(current);
            offset += 1 + rowBytes;
            Unfilter(filter, current, previous, bpp, name);
            EmitRow(hd, current, w, rgb, y0 + y * dy, x0, dx, palette, name);
            (previous, current) = (current, previous);
        }
    }

    private static void Unfilter(byte filter, Span<byte> row, ReadOnlySpan<byte> up, int bpp, string name)
    {
        switch (filter)
        {
            case 0: break;
            case 1: for (var i = bpp; i < row.Length; i++) row[i] += row[i - bpp]; break;
            case 2: for (var i = 0; i < row.Length; i++) row[i] += up[i]; break;
            case 3:
                for (var i = 0; i < row.Length; i++)
                    row[i] += (byte)(((i >= bpp ? row[i - bpp] : 0) + up[i]) >> 1);
                break;
            case 4:
                for (var i = 0; i < row.Length; i++)
                    row[i] += Paeth(i >= bpp ? row[i - bpp] : (byte)0, up[i], i >= bpp ? up[i - bpp] : (byte)0);
                break;
            default: throw new ImageDecodeException(name, $"corrupt PNG (unknown row filter {filter})");
        }
    }

    private static byte Paeth(byte a, byte b, byte c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static void EmitRow(Header hd, ReadOnlySpan<byte> row, int w, byte[] rgb, int y, int x0, int dx,
        byte[]? palette, string name)
    {
        var dst = rgb.AsSpan(3 * y * hd.Width);
        var step = hd.BitDepth == 16 ? 2 : 1;   // 16-bit: the high (first, big-endian) byte of each sample
        for (var i = 0; i < w; i++)
        {
            var o = 3 * (x0 + i * dx);
            switch (hd.ColorType)
            {
                case Rgb or Rgba:
                {
                    var s = i * hd.Channels * step;
                    dst[o] = row[s]; dst[o + 1] = row[s + step]; dst[o + 2] = row[s + 2 * step];
                    break;
                }
                case GrayAlpha:
                    dst[o] = dst[o + 1] = dst[o + 2] = row[i * 2 * step];
                    break;
                case Gray:
                {
                    var v = hd.BitDepth >= 8 ? row[i * step] : (byte)(Sample(row, i, hd.BitDepth) * 255 / ((1 << hd.BitDepth) - 1));
                    dst[o] = dst[o + 1] = dst[o + 2] = v;
                    break;
                }
                default:
                {
                    var index = hd.BitDepth == 8 ? row[i] : Sample(row, i, hd.BitDepth);
                    if (3 * index + 2 >= palette!.Length) throw new ImageDecodeException(name, $"corrupt PNG (palette index {index} out of range)");
                    dst[o] = palette[3 * index]; dst[o + 1] = palette[3 * index + 1]; dst[o + 2] = palette[3 * index + 2];
                    break;
                }
            }
        }
    }

    /// <summary>The i-th sample of a row packed at 1, 2 or 4 bits, most significant bits first.</summary>
    private static int Sample(ReadOnlySpan<byte> row, int i, int bits)
    {
        var bit = i * bits;
        return (row[bit >> 3] >> (8 - bits - (bit & 7))) & ((1 << bits) - 1);
    }

    public static byte[] Encode(RgbImage image, CompressionLevel level)
    {
        using var output = new MemoryStream();
        output.Write(Signature);
        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, image.Width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr[4..], image.Height);
        ihdr[8] = 8; ihdr[9] = Rgb; ihdr[10] = ihdr[11] = ihdr[12] = 0;
        WriteChunk(output, "IHDR"u8, ihdr);

        using var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, level, leaveOpen: true))
        {
            // Paeth on every row: a good predictor for photographs; cheaper than trying all five filters per row.
            var stride = image.Stride;
            var line = new byte[1 + stride];
            line[0] = 4;
            for (var y = 0; y < image.Height; y++)
            {
                var cur = image.Pixels.AsSpan(y * stride, stride);
                var up = y > 0 ? image.Pixels.AsSpan((y - 1) * stride, stride) : new byte[stride];
                for (var i = 0; i < stride; i++)
                    line[1 + i] = (byte)(cur[i] - Paeth(i >= 3 ? cur[i - 3] : (byte)0, up[i], i >= 3 ? up[i - 3] : (byte)0));
                z.Write(line);
            }
        }
        WriteChunk(output, "IDAT"u8, compressed.GetBuffer().AsSpan(0, (int)compressed.Length));
        WriteChunk(output, "IEND"u8, []);
        return output.ToArray();
    }

    private static void WriteChunk(Stream s, ReadOnlySpan<byte> type, ReadOnlySpan<byte> body)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, body.Length);
        s.Write(word);
        var typed = new byte[4 + body.Length];
        type.CopyTo(typed);
        body.CopyTo(typed.AsSpan(4));
        s.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Compute(typed));
        s.Write(word);
    }
}

/// <summary>The CRC-32 of PNG chunks (ISO 3309, polynomial 0xEDB88320).</summary>
internal static class Crc32
{
    private static readonly uint[] Table = Build();

    private static uint[] Build()
    {
        var t = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        var c = 0xFFFFFFFFu;
        foreach (var b in data) c = Table[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFFu;
    }
}
