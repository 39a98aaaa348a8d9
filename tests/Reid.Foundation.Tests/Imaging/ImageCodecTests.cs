using Reid.Imaging;
using Reid.TestSupport;

namespace Reid.Foundation.Tests.Imaging;

public class ImageCodecTests
{
    private static int MaxAbsDiff(RgbImage a, RgbImage b) =>
        a.Pixels.Zip(b.Pixels, (x, y) => Math.Abs(x - y)).Max();

    [Fact]
    public void JpegRoundTripKeepsSizeAndPixelsClose()
    {
        var img = TestImages.Gradient(64, 128);
        var decoded = ImageCodec.Decode(ImageCodec.EncodeJpeg(img, 95, fullChroma: true), "mem.jpg");
        Assert.Equal((64, 128), (decoded.Width, decoded.Height));
        Assert.True(MaxAbsDiff(img, decoded) <= 24, $"max diff {MaxAbsDiff(img, decoded)}");   // at the square's sharp edge
        Assert.True(img.Pixels.Zip(decoded.Pixels, (x, y) => Math.Abs(x - y)).Average() < 2);
    }

    [Fact]
    public void PngRoundTripIsLossless()
    {
        var img = TestImages.Random(37, 23, 1);
        var decoded = ImageCodec.Decode(ImageCodec.EncodePng(img), "mem.png");
        Assert.Equal(img.Pixels, decoded.Pixels);
    }

    [Fact]
    public void FormatIsSniffedFromContentNotExtension()
    {
        using var dir = new TempDir();
        var img = TestImages.Random(8, 8, 2);
        File.WriteAllBytes(dir.File("really-a-png.jpg"), ImageCodec.EncodePng(img));
        File.WriteAllBytes(dir.File("really-a-jpeg.png"), ImageCodec.EncodeJpeg(img));
        Assert.Equal(img.Pixels, ImageCodec.Decode(dir.File("really-a-png.jpg")).Pixels);
        Assert.Equal(8, ImageCodec.Decode(dir.File("really-a-jpeg.png")).Width);
    }

    [Theory]
    [InlineData(0, 1)] [InlineData(0, 2)] [InlineData(0, 4)] [InlineData(0, 8)] [InlineData(0, 16)]
    [InlineData(2, 8)] [InlineData(2, 16)] [InlineData(4, 8)] [InlineData(4, 16)] [InlineData(6, 8)] [InlineData(6, 16)]
    [InlineData(3, 1)] [InlineData(3, 2)] [InlineData(3, 4)] [InlineData(3, 8)]
    public void PngDecodesEveryColourTypeAndDepth(int colorType, int depth)
    {
        foreach (var interlaced in new[] { false, true })
        {
            const int w = 13, h = 11;   // odd sizes: partial bytes at row ends, empty Adam7 passes
            var max = (1 << depth) - 1;
            int Value(int x, int y, int c) => (x * 7 + y * 13 + c * 5) % (max + 1);
            byte[]? palette = null;
            if (colorType == 3)
            {
                palette = new byte[3 * (max + 1)];
                for (var i = 0; i < palette.Length; i++) palette[i] = (byte)(i * 37 % 256);
            }
            var png = TestImages.Png(w, h, colorType, depth, Value, interlaced, palette);
            var img = ImageCodec.Decode(png, $"t{colorType}-{depth}.png");
            for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
            {
                byte To8(int v) => depth == 16 ? (byte)(v >> 8) : (byte)(v * 255 / max);
                var expected = colorType switch
                {
                    0 or 4 => (To8(Value(x, y, 0)), To8(Value(x, y, 0)), To8(Value(x, y, 0))),
                    3 => (palette![3 * Value(x, y, 0)], palette[3 * Value(x, y, 0) + 1], palette[3 * Value(x, y, 0) + 2]),
                    _ => (To8(Value(x, y, 0)), To8(Value(x, y, 1)), To8(Value(x, y, 2))),
                };
                Assert.True(expected == img[x, y], $"interlaced={interlaced} ({x},{y}): {img[x, y]} != {expected}");
            }
        }
    }

    private static ImageDecodeException DecodeFails(byte[] bytes, string name = "bad.img", ImageDecodeOptions? o = null)
    {
        var e = Assert.Throws<ImageDecodeException>(() => ImageCodec.Decode(bytes, name, o));
        Assert.Equal(name, e.FileName);
        Assert.Contains(name, e.Message);
        return e;
    }

    [Fact]
    public void MissingAndEmptyFilesNameTheFile()
    {
        using var dir = new TempDir();
        var missing = dir.File("nope.jpg");
        Assert.Contains("not found", Assert.Throws<ImageDecodeException>(() => ImageCodec.Decode(missing)).Message);
        File.WriteAllBytes(dir.File("empty.jpg"), []);
        var e = Assert.Throws<ImageDecodeException>(() => ImageCodec.Decode(dir.File("empty.jpg")));
        Assert.Contains("empty.jpg", e.Message);
        Assert.Contains("0 bytes", e.Message);
        Assert.Throws<ImageDecodeException>(() => ImageCodec.Decode(dir.Path));   // a folder, not a file
    }

    [Fact]
    public void TruncatedAndCorruptJpegsAreErrors()
    {
        var jpeg = ImageCodec.EncodeJpeg(TestImages.Gradient(64, 128));
        Assert.Contains("JPEG", DecodeFails(jpeg[..(jpeg.Length / 2)], "half.jpg").Message);
        Assert.Contains("JPEG", DecodeFails(jpeg[..40], "header-only.jpg").Message);
        var garbage = jpeg.ToArray();
        new Random(3).NextBytes(garbage.AsSpan(3, 300));   // SOI kept, everything after it scrambled
        DecodeFails(garbage, "scrambled.jpg");
        // A failure must not poison this thread's decoder for the next, good file.
        Assert.Equal(64, ImageCodec.Decode(jpeg, "good.jpg").Width);
    }

    [Fact]
    public void TruncatedAndCorruptPngsAreErrors()
    {
        var png = ImageCodec.EncodePng(TestImages.Random(40, 30, 4));
        Assert.Contains("truncated", DecodeFails(png[..(png.Length / 2)], "half.png").Message);
        var flipped = png.ToArray();
        flipped[60] ^= 0x55;   // inside IDAT: the chunk CRC catches it
        Assert.Contains("CRC", DecodeFails(flipped, "crc.png").Message);
    }

    [Fact]
    public void NonImagesAndOtherFormatsAreErrors()
    {
        Assert.Contains("not a JPEG or PNG", DecodeFails("hello, world"u8.ToArray(), "notes.jpg").Message);
        Assert.Contains("Gif", DecodeFails("GIF89a\x01\x00\x01\x00"u8.ToArray(), "anim.jpg").Message);
        Assert.Contains("Bmp", DecodeFails("BM\0\0\0\0\0\0"u8.ToArray(), "old.png").Message);
    }

    [Fact]
    public void HugeJpegHeaderIsRefusedBeforeDecoding()
    {
        var jpeg = ImageCodec.EncodeJpeg(TestImages.Gradient(16, 16));
        var sof = Enumerable.Range(0, jpeg.Length - 1).First(i => jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0);
        // SOF0: marker, length(2), precision(1), height(2), width(2)
        jpeg[sof + 5] = 30000 >> 8; jpeg[sof + 6] = 30000 & 0xFF;
        jpeg[sof + 7] = 30000 >> 8; jpeg[sof + 8] = 30000 & 0xFF;
        var before = GC.GetTotalAllocatedBytes(true);
        var e = DecodeFails(jpeg, "huge.jpg");
        Assert.Contains("too large", e.Message);
        Assert.Contains("30000x30000", e.Message);
        Assert.True(GC.GetTotalAllocatedBytes(true) - before < 10_000_000, "a pixel buffer was allocated");
    }

    [Fact]
    public void HugePngHeaderIsRefusedBeforeDecoding()
    {
        var png = TestImages.Png(2, 2, 2, 8, (_, _, _) => 0, declaredWidth: 30000, declaredHeight: 30000);
        Assert.Contains("too large", DecodeFails(png, "huge.png").Message);
    }

    [Fact]
    public void PixelLimitIsConfigurable()
    {
        var jpeg = ImageCodec.EncodeJpeg(TestImages.Gradient(32, 32));
        DecodeFails(jpeg, "limited.jpg", new ImageDecodeOptions(MaxPixels: 1000));
        Assert.Equal(32, ImageCodec.Decode(jpeg, "ok.jpg", new ImageDecodeOptions(MaxPixels: 1024)).Width);
    }

    [Fact]
    public void CropIsClampedToTheImage()
    {
        var img = TestImages.Random(20, 10, 5);
        var crop = img.Crop(15, -3, 10, 6);
        Assert.Equal((5, 3), (crop.Width, crop.Height));
        Assert.Equal(img[15, 0], crop[0, 0]);
        Assert.Equal(img[19, 2], crop[4, 2]);
        Assert.Throws<ArgumentOutOfRangeException>(() => img.Crop(25, 0, 5, 5));
    }

    [Fact]
    public void BatchDecodeReportsBadFilesAndKeepsOrder()
    {
        using var dir = new TempDir();
        var paths = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            var p = dir.File($"{i:D2}.jpg");
            File.WriteAllBytes(p, ImageCodec.EncodeJpeg(TestImages.Solid(8 + i, 8, (byte)(20 * i), 0, 0)));
            paths.Add(p);
        }
        File.WriteAllBytes(dir.File("bad.jpg"), [1, 2, 3]);
        var images = ImageBatch.DecodeAll(paths);
        Assert.Equal(Enumerable.Range(8, 12), images.Select(x => x.Width));
        var results = ImageBatch.TryDecodeAll([.. paths, dir.File("bad.jpg")]);
        Assert.Single(results, r => r.Error is not null);
        Assert.Contains("bad.jpg", results[^1].Error!.Message);
        Assert.Throws<ImageDecodeException>(() => ImageBatch.DecodeAll([.. paths, dir.File("bad.jpg")]));
    }

    [SharedFact]
    public void EveryHoldoutQueryCropDecodesCleanly()
    {
        var names = File.ReadAllLines(Path.Combine(SharedData.HoldoutV1, "query.txt")).Where(l => l.Length > 0);
        var results = ImageBatch.TryDecodeAll(names.Select(n => Path.Combine(SharedData.Market1501Train, n)).ToList());
        Assert.Equal(1076, results.Length);
        Assert.All(results, r => Assert.Null(r.Error));
        Assert.All(results, r => Assert.Equal((64, 128), (r.Image!.Width, r.Image.Height)));
    }
}
