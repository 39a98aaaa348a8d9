namespace Reid.Imaging;

/// <summary>A rectangle in pixel coordinates (left, top, width, height).</summary>
public readonly record struct PixelBox(int X, int Y, int Width, int Height)
{
    public int Right => X + Width;
    public int Bottom => Y + Height;
}

/// <summary>
/// An 8-bit RGB image: <see cref="Pixels"/> holds Height rows of Width pixels, each R,G,B, row stride 3*Width.
/// The array is shared, not copied: treat it as read-only once the image is handed on.
/// </summary>
public sealed class RgbImage
{
    public int Width { get; }
    public int Height { get; }
    public byte[] Pixels { get; }
    public int Stride => 3 * Width;

    public RgbImage(int width, int height, byte[] pixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.LongLength != 3L * width * height)
            throw new ArgumentException($"expected {3L * width * height} bytes for {width}x{height} RGB, got {pixels.LongLength}", nameof(pixels));
        (Width, Height, Pixels) = (width, height, pixels);
    }

    /// <summary>A black image of the given size.</summary>
    public static RgbImage Blank(int width, int height) => new(width, height, new byte[checked(3 * width * height)]);

    public Span<byte> Row(int y) => Pixels.AsSpan(y * Stride, Stride);

    /// <summary>The pixel at (x, y) as (R, G, B).</summary>
    public (byte R, byte G, byte B) this[int x, int y]
    {
        get { var i = y * Stride + 3 * x; return (Pixels[i], Pixels[i + 1], Pixels[i + 2]); }
    }

    /// <summary>
    /// The part of the image inside <paramref name="box"/>, clamped to the image (detector boxes often reach past
    /// the border). A box entirely outside the image is an error: there is no pixel to return.
    /// </summary>
    public RgbImage Crop(PixelBox box)
    {
        var x0 = Math.Clamp(box.X, 0, Width);
        var y0 = Math.Clamp(box.Y, 0, Height);
        var x1 = Math.Clamp((long)box.X + box.Width, 0, Width);
        var y1 = Math.Clamp((long)box.Y + box.Height, 0, Height);
        if (x1 <= x0 || y1 <= y0)
            throw new ArgumentOutOfRangeException(nameof(box), $"box {box} does not overlap the {Width}x{Height} image");
        var w = (int)x1 - x0;
        var h = (int)y1 - y0;
        var dst = new byte[3 * w * h];
        for (var y = 0; y < h; y++)
            Pixels.AsSpan((y0 + y) * Stride + 3 * x0, 3 * w).CopyTo(dst.AsSpan(y * 3 * w));
        return new RgbImage(w, h, dst);
    }

    public RgbImage Crop(int x, int y, int width, int height) => Crop(new PixelBox(x, y, width, height));

    /// <summary>The image mirrored left to right.</summary>
    public RgbImage FlipHorizontal()
    {
        var dst = new byte[Pixels.Length];
        for (var y = 0; y < Height; y++)
        {
            var src = Pixels.AsSpan(y * Stride, Stride);
            var row = dst.AsSpan(y * Stride, Stride);
            for (var x = 0; x < Width; x++)
                src.Slice(3 * (Width - 1 - x), 3).CopyTo(row.Slice(3 * x, 3));
        }
        return new RgbImage(Width, Height, dst);
    }
}
