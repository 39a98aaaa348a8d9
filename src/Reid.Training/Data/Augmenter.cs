using Reid.Engine.Tensors;
using Reid.Training.Config;

namespace Reid.Training.Data;

/// <summary>
/// The training augmentations of the ReID "bag of tricks" (Luo et al. 2019) on one image already resized to
/// the model's input, as float CHW in [0, 1]: colour jitter, horizontal flip, zero padding + random crop
/// back to size, normalisation by the model's mean/std, then random erasing (Zhong et al. 2020) filling a
/// rectangle with the mean (0 after normalisation). Every random draw comes from the <see cref="Rng"/>
/// passed in, which the loader seeds per (run seed, epoch, batch, position): reruns see identical images.
/// </summary>
public sealed class Augmenter
{
    private readonly AugmentationConfig _cfg;
    private readonly float[] _mean, _std;

    public int Height { get; }
    public int Width { get; }
    public int Length => 3 * Height * Width;

    public Augmenter(AugmentationConfig config, int height, int width, float[] mean, float[] std)
    {
        if (mean.Length != 3 || std.Length != 3) throw new ArgumentException("mean and std need one value per channel");
        _cfg = config;
        Height = height;
        Width = width;
        _mean = mean;
        _std = std;
    }

    /// <summary>Augments <paramref name="source"/> (CHW, [0,1]) into <paramref name="destination"/> (CHW, normalised).</summary>
    public void Apply(ReadOnlySpan<float> source, Span<float> destination, Rng rng)
    {
        if (source.Length != Length || destination.Length != Length)
            throw new ArgumentException($"augmenter expects 3 x {Height} x {Width} values");
        int plane = Height * Width, h = Height, w = Width;

        // every draw happens whether or not its augmentation fires, so turning one off does not reshuffle the others
        var jitter = rng.NextDouble() < _cfg.ColorJitter.Probability;
        var b = Factor(rng, _cfg.ColorJitter.Brightness);
        var c = Factor(rng, _cfg.ColorJitter.Contrast);
        var s = Factor(rng, _cfg.ColorJitter.Saturation);
        var hue = (float)((rng.NextDouble() * 2 - 1) * _cfg.ColorJitter.Hue);
        var flip = rng.NextDouble() < _cfg.Flip;
        var pad = _cfg.Pad;
        var dx = pad > 0 ? rng.NextInt(2 * pad + 1) - pad : 0;
        var dy = pad > 0 ? rng.NextInt(2 * pad + 1) - pad : 0;

        var jittered = jitter ? ColourJitter(source, b, c, s, hue) : null;
        ReadOnlySpan<float> src = jittered ?? source;

        // output (y, x) reads input (y + dy, x + dx) of the (optionally mirrored) image; outside is the zero pad
        for (var ch = 0; ch < 3; ch++)
        {
            var mean = _mean[ch];
            var inv = 1f / _std[ch];
            for (var y = 0; y < h; y++)
            {
                var sy = y + dy;
                var row = destination.Slice(ch * plane + y * w, w);
                for (var x = 0; x < w; x++)
                {
                    var sx = x + dx;
                    var v = 0f;
                    if ((uint)sy < (uint)h && (uint)sx < (uint)w)
                        v = src[ch * plane + sy * w + (flip ? w - 1 - sx : sx)];
                    row[x] = (v - mean) * inv;
                }
            }
        }

        var erase = rng.NextDouble() < _cfg.RandomErasing.Probability;
        if (erase) RandomErase(destination, rng);
    }

    private static float Factor(Rng rng, double spread) => (float)(1 + (rng.NextDouble() * 2 - 1) * spread);

    private float[] ColourJitter(ReadOnlySpan<float> src, float brightness, float contrast, float saturation, float hue)
    {
        int plane = Height * Width;
        var r = new float[src.Length];
        src.CopyTo(r);
        var meanGray = 0.0;
        for (var i = 0; i < plane; i++)
        {
            for (var ch = 0; ch < 3; ch++) r[ch * plane + i] = Math.Clamp(r[ch * plane + i] * brightness, 0, 1);
            meanGray += Gray(r, plane, i);
        }
        var m = (float)(meanGray / plane);
        // hue: a rotation of the chroma plane in YIQ space by hue·2π (close to torchvision's HSV shift, cheaper)
        float cosH = MathF.Cos(hue * 2 * MathF.PI), sinH = MathF.Sin(hue * 2 * MathF.PI);
        for (var i = 0; i < plane; i++)
        {
            for (var ch = 0; ch < 3; ch++) r[ch * plane + i] = Math.Clamp((r[ch * plane + i] - m) * contrast + m, 0, 1);
            var g = Gray(r, plane, i);
            for (var ch = 0; ch < 3; ch++) r[ch * plane + i] = Math.Clamp(g + (r[ch * plane + i] - g) * saturation, 0, 1);
            if (hue != 0)
            {
                float R = r[i], G = r[plane + i], B = r[2 * plane + i];
                float Y = 0.299f * R + 0.587f * G + 0.114f * B;
                float I = 0.596f * R - 0.274f * G - 0.322f * B;
                float Q = 0.211f * R - 0.523f * G + 0.312f * B;
                float I2 = I * cosH - Q * sinH, Q2 = I * sinH + Q * cosH;
                r[i] = Math.Clamp(Y + 0.956f * I2 + 0.621f * Q2, 0, 1);
                r[plane + i] = Math.Clamp(Y - 0.272f * I2 - 0.647f * Q2, 0, 1);
                r[2 * plane + i] = Math.Clamp(Y - 1.106f * I2 + 1.703f * Q2, 0, 1);
            }
        }
        return r;
    }

    private static float Gray(float[] r, int plane, int i) => 0.299f * r[i] + 0.587f * r[plane + i] + 0.114f * r[2 * plane + i];

    private void RandomErase(Span<float> img, Rng rng)
    {
        var e = _cfg.RandomErasing;
        int h = Height, w = Width, plane = h * w;
        // as in the paper: up to 10 attempts to draw a rectangle (area, log-uniform aspect) that fits
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var area = (e.MinArea + rng.NextDouble() * (e.MaxArea - e.MinArea)) * plane;
            var logR = Math.Log(e.MinAspect) + rng.NextDouble() * (-2 * Math.Log(e.MinAspect));
            var aspect = Math.Exp(logR);
            var eh = (int)Math.Round(Math.Sqrt(area * aspect));
            var ew = (int)Math.Round(Math.Sqrt(area / aspect));
            if (eh < 1 || ew < 1 || eh >= h || ew >= w) continue;
            var y0 = rng.NextInt(h - eh + 1);
            var x0 = rng.NextInt(w - ew + 1);
            for (var ch = 0; ch < 3; ch++)
                for (var y = y0; y < y0 + eh; y++) img.Slice(ch * plane + y * w + x0, ew).Clear();
            return;
        }
    }
}
