using Reid.Imaging;

namespace Reid.Video.Output;

/// <summary>Draws boxes and labels straight into an RGB frame (in place).</summary>
public static class FrameAnnotator
{
    /// <summary>A distinct, stable colour per track id (golden-ratio hue steps).</summary>
    public static (byte R, byte G, byte B) ColourOf(int id)
    {
        double h = (id * 0.618033988749895) % 1.0 * 6;
        int i = (int)h;
        double f = h - i;
        byte v = 230, p = 40, q = (byte)(230 - 190 * f), t = (byte)(40 + 190 * f);
        return i switch { 0 => (v, t, p), 1 => (q, v, p), 2 => (p, v, t), 3 => (p, q, v), 4 => (t, p, v), _ => (v, p, q) };
    }

    public static void DrawBox(RgbImage image, BoundingBox box, (byte R, byte G, byte B) colour, int thickness = 2)
    {
        int x0 = (int)MathF.Round(box.X), y0 = (int)MathF.Round(box.Y);
        int x1 = (int)MathF.Round(box.Right) - 1, y1 = (int)MathF.Round(box.Bottom) - 1;
        for (int k = 0; k < thickness; k++)
        {
            HLine(image, x0, x1, y0 + k, colour);
            HLine(image, x0, x1, y1 - k, colour);
            VLine(image, x0 + k, y0, y1, colour);
            VLine(image, x1 - k, y0, y1, colour);
        }
    }

    /// <summary>Text on a filled background whose top-left corner is (x, y); clipped at the frame's edges.</summary>
    public static void DrawLabel(RgbImage image, int x, int y, string text, (byte R, byte G, byte B) background, int scale = 2)
    {
        int w = BitmapFont.TextWidth(text, scale) + 2 * scale, h = (BitmapFont.GlyphHeight + 2) * scale;
        FillRect(image, x, y, w, h, background);
        var ink = background.R * 0.299 + background.G * 0.587 + background.B * 0.114 > 140 ? ((byte)0, (byte)0, (byte)0) : ((byte)255, (byte)255, (byte)255);
        for (int i = 0; i < text.Length; i++)
        for (int gy = 0; gy < BitmapFont.GlyphHeight; gy++)
        for (int gx = 0; gx < BitmapFont.GlyphWidth; gx++)
            if (BitmapFont.IsSet(text[i], gx, gy))
                FillRect(image, x + scale + (i * BitmapFont.Advance + gx) * scale, y + scale + gy * scale, scale, scale, ink);
    }

    public static void FillRect(RgbImage image, int x, int y, int w, int h, (byte R, byte G, byte B) c)
    {
        int xa = Math.Max(0, x), ya = Math.Max(0, y), xb = Math.Min(image.Width, x + w), yb = Math.Min(image.Height, y + h);
        for (int yy = ya; yy < yb; yy++)
        for (int xx = xa; xx < xb; xx++) Set(image, xx, yy, c);
    }

    private static void HLine(RgbImage image, int x0, int x1, int y, (byte, byte, byte) c)
    {
        if (y < 0 || y >= image.Height) return;
        for (int x = Math.Max(0, x0); x <= Math.Min(image.Width - 1, x1); x++) Set(image, x, y, c);
    }

    private static void VLine(RgbImage image, int x, int y0, int y1, (byte, byte, byte) c)
    {
        if (x < 0 || x >= image.Width) return;
        for (int y = Math.Max(0, y0); y <= Math.Min(image.Height - 1, y1); y++) Set(image, x, y, c);
    }

    private static void Set(RgbImage image, int x, int y, (byte R, byte G, byte B) c)
    {
        int i = y * image.Stride + 3 * x;
        image.Pixels[i] = c.R;
        image.Pixels[i + 1] = c.G;
        image.Pixels[i + 2] = c.B;
    }
}
