using Reid.Engine.Tensors;
using Reid.Training.Config;
using Reid.Training.Data;

namespace Reid.Training.Tests.Data;

public sealed class AugmenterTests
{
    private const int H = 16, W = 8;
    private static readonly float[] Mean = [0.5f, 0.5f, 0.5f], Std = [0.25f, 0.25f, 0.25f];

    private static readonly AugmentationConfig None = new()
    {
        Flip = 0, Pad = 0,
        RandomErasing = new RandomErasingConfig { Probability = 0 },
        ColorJitter = new ColorJitterConfig { Probability = 0 },
    };

    // a gradient image: value depends on channel, row and column, so any shift or mirror shows
    private static float[] Image()
    {
        var img = new float[3 * H * W];
        for (var c = 0; c < 3; c++)
            for (var y = 0; y < H; y++)
                for (var x = 0; x < W; x++) img[c * H * W + y * W + x] = (c * 0.1f + y * 0.03f + x * 0.05f) % 1f;
        return img;
    }

    private static float[] Run(AugmentationConfig cfg, ulong seed, float[]? src = null)
    {
        var dst = new float[3 * H * W];
        new Augmenter(cfg, H, W, Mean, Std).Apply(src ?? Image(), dst, new Rng(seed));
        return dst;
    }

    private static float At(float[] img, int c, int y, int x) => img[c * H * W + y * W + x];

    [Fact]
    public void With_everything_off_it_only_normalises()
    {
        var src = Image();
        var dst = Run(None, 1, src);
        for (var i = 0; i < src.Length; i++) Assert.Equal((src[i] - 0.5f) / 0.25f, dst[i], 5);
    }

    [Fact]
    public void A_certain_flip_mirrors_every_row()
    {
        var src = Image();
        var dst = Run(None with { Flip = 1 }, 1, src);
        for (var y = 0; y < H; y++)
            for (var x = 0; x < W; x++) Assert.Equal((At(src, 1, y, W - 1 - x) - 0.5f) / 0.25f, At(dst, 1, y, x), 5);
    }

    [Fact]
    public void Pad_and_crop_shifts_the_image_and_fills_the_border_with_black()
    {
        var src = Image();
        var shifted = 0;
        for (ulong seed = 0; seed < 20; seed++)
        {
            var dst = Run(None with { Pad = 2 }, seed, src);
            // find the shift that explains the output: every pixel either a shifted source pixel or black
            var explained = false;
            for (var dy = -2; dy <= 2 && !explained; dy++)
                for (var dx = -2; dx <= 2 && !explained; dx++)
                {
                    var ok = true;
                    for (var y = 0; y < H && ok; y++)
                        for (var x = 0; x < W && ok; x++)
                        {
                            int sy = y + dy, sx = x + dx;
                            var v = sy is >= 0 and < H && sx is >= 0 and < W ? At(src, 0, sy, sx) : 0f;
                            ok = Math.Abs((v - 0.5f) / 0.25f - At(dst, 0, y, x)) < 1e-5;
                        }
                    if (ok) { explained = true; if (dx != 0 || dy != 0) shifted++; }
                }
            Assert.True(explained, $"seed {seed}: output is not a padded crop of the input");
        }
        Assert.True(shifted > 10);
    }

    [Fact]
    public void Random_erasing_blanks_one_rectangle_within_the_area_bounds()
    {
        var cfg = None with { RandomErasing = new RandomErasingConfig { Probability = 1, MinArea = 0.1, MaxArea = 0.3, MinAspect = 0.5 } };
        var src = Enumerable.Repeat(0.9f, 3 * H * W).ToArray(); // normalises to 1.6, erased to 0
        for (ulong seed = 0; seed < 20; seed++)
        {
            var dst = Run(cfg, seed, src);
            var erased = Enumerable.Range(0, H * W).Where(i => dst[i] == 0).ToArray();
            Assert.InRange(erased.Length, 1, (int)(0.3 * H * W * 1.3));
            var ys = erased.Select(i => i / W).ToArray();
            var xs = erased.Select(i => i % W).ToArray();
            Assert.Equal((ys.Max() - ys.Min() + 1) * (xs.Max() - xs.Min() + 1), erased.Length); // a rectangle
            Assert.All(erased, i => Assert.Equal(0, dst[H * W + i])); // on every channel
        }
    }

    [Fact]
    public void Colour_jitter_changes_brightness_within_its_range_and_stays_in_range()
    {
        var cfg = None with { ColorJitter = new ColorJitterConfig { Probability = 1, Brightness = 0.5, Contrast = 0, Saturation = 0 } };
        var src = Enumerable.Repeat(0.4f, 3 * H * W).ToArray();
        var values = new HashSet<float>();
        for (ulong seed = 0; seed < 10; seed++)
        {
            var dst = Run(cfg, seed, src);
            var pixel = dst[0] * 0.25f + 0.5f;
            Assert.InRange(pixel, 0.4f * 0.5f - 1e-5f, 0.4f * 1.5f + 1e-5f);
            Assert.All(dst, v => Assert.Equal(dst[0], v, 5)); // a flat image stays flat
            values.Add(MathF.Round(pixel, 4));
        }
        Assert.True(values.Count > 5);
    }

    [Fact]
    public void The_same_seed_gives_the_same_image_and_another_seed_a_different_one()
    {
        var cfg = new AugmentationConfig { ColorJitter = new ColorJitterConfig { Probability = 0.5, Hue = 0.1 } };
        Assert.Equal(Run(cfg, 42), Run(cfg, 42));
        Assert.NotEqual(Run(cfg, 42), Run(cfg, 43));
        Assert.All(Run(cfg, 7), v => Assert.True(float.IsFinite(v)));
    }
}
