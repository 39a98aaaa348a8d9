using Reid.Imaging;

namespace Reid.Foundation.Tests.Imaging;

public class PreprocessingTests
{
    private static readonly Preprocessing Identity = new(1, 4, ChannelOrder.Rgb, 1f, (0, 0, 0), (1, 1, 1));

    [Fact]
    public void SolidColourBecomesImageNetNormalisedPlanes()
    {
        var p = Preprocessing.ImageNet(8, 4);
        var t = new float[p.TensorLength];
        p.Apply(TestImages.Solid(3, 5, 255, 128, 0), t);
        Assert.All(t[..32], v => Assert.Equal((1f - 0.485f) / 0.229f, v, 4));
        Assert.All(t[32..64], v => Assert.Equal((128f / 255 - 0.456f) / 0.224f, v, 4));
        Assert.All(t[64..], v => Assert.Equal((0 - 0.406f) / 0.225f, v, 4));
    }

    [Fact]
    public void BgrMeanAndStdApplyPerTensorPlane()
    {
        var p = new Preprocessing(2, 2, ChannelOrder.Bgr, 1f, (10, 20, 30), (1, 2, 4));
        var t = new float[p.TensorLength];
        p.Apply(TestImages.Solid(2, 2, 100, 50, 200), t);
        Assert.All(t[..4], v => Assert.Equal((200 - 10) / 1f, v));   // plane 0 is blue
        Assert.All(t[4..8], v => Assert.Equal((50 - 20) / 2f, v));
        Assert.All(t[8..], v => Assert.Equal((100 - 30) / 4f, v));   // plane 2 is red
    }

    [Fact]
    public void UpscaleUsesHalfPixelCentresClampedAtTheBorder()
    {
        // 2 -> 4 pixels: source positions -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
        var img = new RgbImage(2, 1, [0, 0, 0, 100, 200, 40]);
        var t = new float[12];
        Identity.Apply(img, t);
        Assert.Equal([0f, 25f, 75f, 100f], t[..4]);
        Assert.Equal([0f, 50f, 150f, 200f], t[4..8]);
        Assert.Equal([0f, 10f, 30f, 40f], t[8..]);
    }

    [Fact]
    public void DownscaleByTwoAveragesPixelPairs()
    {
        var img = new RgbImage(8, 1, [.. Enumerable.Range(0, 8).SelectMany(i => new[] { (byte)(10 * i), (byte)0, (byte)0 })]);
        var t = new float[12];
        Identity.Apply(img, t);
        Assert.Equal([5f, 25f, 45f, 65f], t[..4]);   // centres at 0.5, 2.5, 4.5, 6.5: no antialias beyond the pair
    }

    [Fact]
    public void SameSizeIsExactAndBgrSwapsPlanes()
    {
        var img = TestImages.Random(6, 5, 7);
        var rgb = new Preprocessing(5, 6, ChannelOrder.Rgb, 1f, (0, 0, 0), (1, 1, 1));
        var t = new float[rgb.TensorLength];
        rgb.Apply(img, t);
        for (var y = 0; y < 5; y++)
        for (var x = 0; x < 6; x++)
            Assert.Equal(img[x, y], ((byte)t[y * 6 + x], (byte)t[30 + y * 6 + x], (byte)t[60 + y * 6 + x]));
        var b = new float[rgb.TensorLength];
        (rgb with { ChannelOrder = ChannelOrder.Bgr }).Apply(img, b);
        Assert.Equal(t[..30], b[60..]);
        Assert.Equal(t[30..60], b[30..60]);
        Assert.Equal(t[60..], b[..30]);
    }

    [Fact]
    public void FlipEqualsPreprocessingTheMirroredImage()
    {
        var img = TestImages.Gradient(31, 67);
        var p = Preprocessing.ImageNet();
        var a = new float[p.TensorLength];
        var b = new float[p.TensorLength];
        p.Apply(img, a, flip: true);
        p.Apply(img.FlipHorizontal(), b);
        Assert.Equal(b, a);
        p.Apply(img, b);
        Assert.NotEqual(b, a);
    }

    [Fact]
    public void ByteResizeMatchesFloatPreprocessingWithinRounding()
    {
        var img = TestImages.Random(64, 128, 8);
        var resized = ImageResize.Bilinear(img, 50, 90);
        var p = new Preprocessing(90, 50, ChannelOrder.Rgb, 1f, (0, 0, 0), (1, 1, 1));
        var t = new float[p.TensorLength];
        p.Apply(img, t);
        for (var y = 0; y < 90; y++)
        for (var x = 0; x < 50; x++)
            Assert.True(Math.Abs(resized[x, y].R - t[y * 50 + x]) <= 0.5f + 1e-3f);
    }

    [Fact]
    public void BatchPreprocessMatchesOneByOne()
    {
        var images = Enumerable.Range(0, 5).Select(i => TestImages.Random(20 + i, 40, i)).ToList();
        var p = Preprocessing.ImageNet(32, 16);
        var batch = new float[5 * p.TensorLength];
        ImageBatch.Preprocess(images, p, batch, flip: true);
        for (var i = 0; i < 5; i++)
        {
            var one = new float[p.TensorLength];
            p.Apply(images[i], one, flip: true);
            Assert.Equal(one, batch.AsSpan(i * p.TensorLength, p.TensorLength).ToArray());
        }
    }

    [Fact]
    public void DecodeAndPreprocessReadsFiles()
    {
        using var dir = new Reid.TestSupport.TempDir();
        var img = TestImages.Random(10, 20, 9);
        File.WriteAllBytes(dir.File("a.png"), ImageCodec.EncodePng(img));
        var p = Preprocessing.ImageNet(20, 10);
        var expected = new float[p.TensorLength];
        p.Apply(img, expected);
        Assert.Equal(expected, ImageBatch.DecodeAndPreprocess([dir.File("a.png")], p));
        Assert.Throws<ImageDecodeException>(() => ImageBatch.DecodeAndPreprocess([dir.File("a.png"), dir.File("b.png")], p));
    }

    [Fact]
    public void InvalidPreprocessingIsRefused()
    {
        var bad = Preprocessing.ImageNet() with { Std = (0, 1, 1) };
        Assert.Throws<Reid.Core.ReidException>(() => bad.Apply(TestImages.Solid(2, 2, 0, 0, 0), new float[bad.TensorLength]));
    }
}
