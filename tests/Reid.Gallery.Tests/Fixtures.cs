using Reid.Gallery;
using Reid.Imaging;

namespace Reid.Gallery.Tests;

/// <summary>
/// Synthetic people for tests that need no data: each "person" is a crop with a dominant colour pattern, and a
/// colour-histogram model embeds it (a weak but real appearance descriptor). Same person = same palette with
/// noise, so identification is decidable without the ONNX model.
/// </summary>
internal static class Fixtures
{
    public static EmbeddingModel HistogramModel(string id = "colour-histogram-v1") => new(id, 64, crops => crops.Select(Histogram).ToArray());

    public static float[] Histogram(RgbImage image)
    {
        var h = new float[64];
        var p = image.Pixels;
        for (var i = 0; i < p.Length; i += 3) h[(p[i] >> 6) * 16 + (p[i + 1] >> 6) * 4 + (p[i + 2] >> 6)]++;
        for (var i = 0; i < 64; i++) h[i] = MathF.Sqrt(h[i]);
        var n = MathF.Sqrt(h.Sum(x => x * x));
        return h.Select(x => x / n).ToArray();
    }

    private static readonly (byte R, byte G, byte B)[][] Palettes =
    [
        [(220, 30, 30), (30, 30, 200)], [(30, 200, 40), (240, 240, 240)], [(250, 220, 20), (20, 20, 20)],
        [(120, 40, 160), (200, 120, 30)], [(30, 180, 200), (180, 30, 120)], [(100, 100, 100), (250, 150, 150)],
    ];

    /// <summary>A 64x128 crop of synthetic person <paramref name="person"/> (upper/lower body colours), varied by <paramref name="shot"/>.</summary>
    public static RgbImage Person(int person, int shot, int width = 64, int height = 128)
    {
        var palette = Palettes[person % Palettes.Length];
        var rng = new Random(person * 1000 + shot);
        var px = new byte[3 * width * height];
        var split = height / 2 + rng.Next(-8, 8);
        for (var y = 0; y < height; y++)
        for (var x = 0; x < width; x++)
        {
            var c = y < split ? palette[0] : palette[1];
            var i = 3 * (y * width + x);
            px[i] = Noise(c.R, rng); px[i + 1] = Noise(c.G, rng); px[i + 2] = Noise(c.B, rng);
        }
        return new RgbImage(width, height, px);
    }

    private static byte Noise(byte v, Random rng) => (byte)Math.Clamp(v + rng.Next(-20, 21), 0, 255);

    public static byte[] PersonJpeg(int person, int shot) => ImageCodec.EncodeJpeg(Person(person, shot), 92);

    public static ImageInput PersonInput(int person, int shot) => new($"p{person}_s{shot}.jpg", PersonJpeg(person, shot));

    /// <summary>A valid JPEG whose frame header claims 30000x30000 pixels (a decompression bomb).</summary>
    public static byte[] HugeHeaderJpeg()
    {
        var bytes = PersonJpeg(0, 0);
        for (var i = 2; i + 9 < bytes.Length; i++)
        {
            if (bytes[i] != 0xFF || bytes[i + 1] is not (0xC0 or 0xC1 or 0xC2)) continue;
            // SOFn: FF Cn, length(2), precision(1), height(2), width(2)
            bytes[i + 5] = 0x75; bytes[i + 6] = 0x30;
            bytes[i + 7] = 0x75; bytes[i + 8] = 0x30;
            return bytes;
        }
        throw new InvalidOperationException("no SOF marker in the encoded JPEG");
    }

    /// <summary>A travel-time model of a network where people walk from camera c1 to c2 in about a minute.</summary>
    public static Reid.SpatialTemporal.SpatialTemporalModel MinuteWalkFromC1ToC2()
    {
        var walks = Enumerable.Range(0, 50).SelectMany(p => new[]
            { new Reid.SpatialTemporal.LabelledSighting(p, "c1", 1000.0 * p), new Reid.SpatialTemporal.LabelledSighting(p, "c2", 1000.0 * p + 60) }).ToArray();
        return Reid.SpatialTemporal.SpatialTemporalModel.Learn(walks, new Reid.SpatialTemporal.SpatialTemporalOptions { SmoothingSeconds = 8 });
    }
}
