using System.Buffers;
using System.Numerics.Tensors;

namespace Reid.Imaging;

/// <summary>The order of the three colour planes in a model's input tensor.</summary>
public enum ChannelOrder { Rgb, Bgr }

/// <summary>
/// How a model wants its input: resized (bilinear) to <see cref="Height"/> x <see cref="Width"/>, channels in
/// <see cref="ChannelOrder"/>, each value <c>(pixel * Scale - Mean[c]) / Std[c]</c>, laid out as NCHW floats.
/// <see cref="Mean"/> and <see cref="Std"/> are per tensor plane, i.e. already in <see cref="ChannelOrder"/>.
/// </summary>
public sealed record Preprocessing(
    int Height,
    int Width,
    ChannelOrder ChannelOrder,
    float Scale,
    (float C0, float C1, float C2) Mean,
    (float C0, float C1, float C2) Std)
{
    public static readonly (float, float, float) ImageNetMean = (0.485f, 0.456f, 0.406f);
    public static readonly (float, float, float) ImageNetStd = (0.229f, 0.224f, 0.225f);

    /// <summary>Torchvision's convention, which torchreid models (OSNet, ResNet ReID) are trained with: RGB, /255, ImageNet mean/std.</summary>
    public static Preprocessing ImageNet(int height = 256, int width = 128) =>
        new(height, width, ChannelOrder.Rgb, 1f / 255f, ImageNetMean, ImageNetStd);

    /// <summary>Floats per image: 3 * Height * Width.</summary>
    public int TensorLength => 3 * Height * Width;

    /// <summary>
    /// Resizes <paramref name="image"/> bilinearly (half-pixel centres, no antialias, as OpenCV's INTER_LINEAR),
    /// normalises, and writes one CHW image into <paramref name="destination"/> (length <see cref="TensorLength"/>).
    /// Resizing straight to floats avoids a rounding step; <paramref name="flip"/> mirrors the result left to right.
    /// </summary>
    public void Apply(RgbImage image, Span<float> destination, bool flip = false)
    {
        Validate();
        if (destination.Length < TensorLength)
            throw new ArgumentException($"destination holds {destination.Length} floats; {TensorLength} needed", nameof(destination));
        var xs = BilinearAxis.Build(image.Width, Width, flip);
        var ys = BilinearAxis.Build(image.Height, Height, false);
        var plane = Height * Width;
        // Source channel c (R,G,B) goes to plane c for RGB models and to plane 2-c for BGR ones.
        Span<int> planeOf = ChannelOrder == ChannelOrder.Bgr ? [2, 1, 0] : [0, 1, 2];
        Span<float> gain = [Scale / Std.C0, Scale / Std.C1, Scale / Std.C2];
        Span<float> bias = [-Mean.C0 / Std.C0, -Mean.C1 / Std.C1, -Mean.C2 / Std.C2];

        // Separable: interpolate each source row horizontally once (into per-channel float rows), then blend
        // pairs of those rows vertically with vector ops. Upscaling a 64x128 crop to 128x256 touches each
        // source row for two output rows, so the horizontal pass runs half as often as there are output rows.
        var rows = ArrayPool<float>.Shared.Rent(3 * Width * image.Height);
        var done = ArrayPool<bool>.Shared.Rent(image.Height);
        try
        {
            Array.Clear(done, 0, image.Height);
            for (var y = 0; y < Height; y++)
            {
                var top = HorizontalRow(image, ys.Index0[y], xs, rows, done);
                var bottom = HorizontalRow(image, ys.Index1[y], xs, rows, done);
                var wy = ys.Weight[y];
                for (var c = 0; c < 3; c++)
                {
                    var pl = planeOf[c];
                    var dst = destination.Slice(pl * plane + y * Width, Width);
                    var t = top.Slice(c * Width, Width);
                    if (wy == 0f) t.CopyTo(dst);
                    else
                    {
                        // dst = t + (b - t) * wy: the same operation order as ImageResize.Bilinear
                        TensorPrimitives.Subtract(bottom.Slice(c * Width, Width), t, dst);
                        TensorPrimitives.MultiplyAdd(dst, wy, t, dst);
                    }
                    TensorPrimitives.Multiply(dst, gain[pl], dst);
                    TensorPrimitives.Add(dst, bias[pl], dst);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rows);
            ArrayPool<bool>.Shared.Return(done);
        }
    }

    /// <summary>Source row <paramref name="sy"/> resampled to the output width, as three channel rows (R, G, B).</summary>
    private ReadOnlySpan<float> HorizontalRow(RgbImage image, int sy, BilinearAxis xs, float[] rows, bool[] done)
    {
        var row = rows.AsSpan(sy * 3 * Width, 3 * Width);
        if (done[sy]) return row;
        var src = image.Pixels.AsSpan(sy * image.Stride, image.Stride);
        var r = row[..Width];
        var g = row.Slice(Width, Width);
        var b = row.Slice(2 * Width, Width);
        for (var x = 0; x < Width; x++)
        {
            int i0 = 3 * xs.Index0[x], i1 = 3 * xs.Index1[x];
            var wx = xs.Weight[x];
            r[x] = src[i0] + (src[i1] - src[i0]) * wx;
            g[x] = src[i0 + 1] + (src[i1 + 1] - src[i0 + 1]) * wx;
            b[x] = src[i0 + 2] + (src[i1 + 2] - src[i0 + 2]) * wx;
        }
        done[sy] = true;
        return row;
    }

    /// <summary>Throws when the record cannot describe a usable input (e.g. read from a bad MODEL.json).</summary>
    public void Validate()
    {
        if (Height <= 0 || Width <= 0 || (long)Height * Width > 16_777_216)
            throw new Reid.Core.ReidException($"preprocessing: invalid input size {Height}x{Width}");
        if (Std.C0 == 0 || Std.C1 == 0 || Std.C2 == 0 || float.IsNaN(Scale))
            throw new Reid.Core.ReidException($"preprocessing: std must be non-zero (got {Std})");
    }
}

/// <summary>
/// Source sample positions for bilinear resizing along one axis, with half-pixel centres:
/// src = (dst + 0.5) * srcSize / dstSize - 0.5, clamped to the image, as OpenCV's INTER_LINEAR does.
/// </summary>
internal readonly struct BilinearAxis
{
    public readonly int[] Index0, Index1;
    public readonly float[] Weight;

    private BilinearAxis(int n)
    {
        Index0 = new int[n];
        Index1 = new int[n];
        Weight = new float[n];
    }

    public static BilinearAxis Build(int srcSize, int dstSize, bool mirror)
    {
        var axis = new BilinearAxis(dstSize);
        var scale = (double)srcSize / dstSize;
        for (var d = 0; d < dstSize; d++)
        {
            var s = (d + 0.5) * scale - 0.5;
            var i = (int)Math.Floor(s);
            var w = s - i;
            if (i < 0) { i = 0; w = 0; }
            if (i >= srcSize - 1) { i = srcSize - 1; w = 0; }
            var k = mirror ? dstSize - 1 - d : d;
            axis.Index0[k] = i;
            axis.Index1[k] = Math.Min(i + 1, srcSize - 1);
            axis.Weight[k] = (float)w;
        }
        return axis;
    }
}

/// <summary>Resizing whole images (thumbnails, letterboxing for detectors).</summary>
public static class ImageResize
{
    /// <summary>Bilinear resize with half-pixel centres and no antialias (OpenCV INTER_LINEAR), rounded to bytes.</summary>
    public static RgbImage Bilinear(RgbImage image, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        var xs = BilinearAxis.Build(image.Width, width, false);
        var ys = BilinearAxis.Build(image.Height, height, false);
        var dst = new byte[checked(3 * width * height)];
        var src = image.Pixels;
        for (var y = 0; y < height; y++)
        {
            var top = src.AsSpan(ys.Index0[y] * image.Stride, image.Stride);
            var bottom = src.AsSpan(ys.Index1[y] * image.Stride, image.Stride);
            var wy = ys.Weight[y];
            var row = dst.AsSpan(3 * y * width, 3 * width);
            for (var x = 0; x < width; x++)
            {
                int i0 = 3 * xs.Index0[x], i1 = 3 * xs.Index1[x];
                var wx = xs.Weight[x];
                for (var c = 0; c < 3; c++)
                {
                    var t = top[i0 + c] + (top[i1 + c] - top[i0 + c]) * wx;
                    var u = bottom[i0 + c] + (bottom[i1 + c] - bottom[i0 + c]) * wx;
                    row[3 * x + c] = (byte)Math.Clamp(MathF.Round(t + (u - t) * wy), 0, 255);
                }
            }
        }
        return new RgbImage(width, height, dst);
    }
}
