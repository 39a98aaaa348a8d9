using System.Text.Json.Serialization;

namespace Reid.Imaging;

/// <summary>
/// An axis-aligned box in pixels: top-left corner, width and height (the MOT convention). One type for detector
/// boxes, tracks and the gallery's stored provenance of a crop; single precision is what detectors produce.
/// </summary>
public readonly record struct BoundingBox(float X, float Y, float Width, float Height)
{
    // Derived values stay out of JSON: a box is stored and answered as x, y, width, height.
    [JsonIgnore] public float Right => X + Width;
    [JsonIgnore] public float Bottom => Y + Height;
    [JsonIgnore] public float Area => Math.Max(0f, Width) * Math.Max(0f, Height);
    [JsonIgnore] public float CenterX => X + Width / 2f;
    [JsonIgnore] public float CenterY => Y + Height / 2f;

    public static BoundingBox FromCorners(float x1, float y1, float x2, float y2) => new(x1, y1, x2 - x1, y2 - y1);

    public static BoundingBox FromCenter(float cx, float cy, float width, float height) =>
        new(cx - width / 2f, cy - height / 2f, width, height);

    /// <summary>Intersection over union; 0 for disjoint or degenerate boxes.</summary>
    public static float Iou(in BoundingBox a, in BoundingBox b)
    {
        float iw = Math.Min(a.Right, b.Right) - Math.Max(a.X, b.X);
        float ih = Math.Min(a.Bottom, b.Bottom) - Math.Max(a.Y, b.Y);
        if (iw <= 0 || ih <= 0) return 0f;
        float inter = iw * ih;
        float union = a.Area + b.Area - inter;
        return union <= 0 ? 0f : inter / union;
    }

    /// <summary>The part of the box inside a width x height frame (may be empty).</summary>
    public BoundingBox ClipTo(int width, int height)
    {
        float x1 = Math.Clamp(X, 0, width), y1 = Math.Clamp(Y, 0, height);
        float x2 = Math.Clamp(Right, 0, width), y2 = Math.Clamp(Bottom, 0, height);
        return FromCorners(x1, y1, x2, y2);
    }

    public override string ToString() => FormattableString.Invariant($"[{X:0.#},{Y:0.#} {Width:0.#}x{Height:0.#}]");
}
