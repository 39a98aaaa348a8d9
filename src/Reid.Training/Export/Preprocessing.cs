namespace Reid.Training.Export;

/// <summary>
/// The preprocessing an exported model expects, written into its ONNX metadata_props under the keys the
/// Embedder reads: models carry their own input size, channel order, scale and mean/std.
/// </summary>
public static class Preprocessing
{
    public static readonly float[] ImageNetMean = [0.485f, 0.456f, 0.406f];
    public static readonly float[] ImageNetStd = [0.229f, 0.224f, 0.225f];

    public static IEnumerable<(string Key, string Value)> Metadata(ExportOptions o)
    {
        static string List(float[] v) => string.Join(",", v.Select(x => x.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
        yield return ("reid.input_height", o.Height.ToString(System.Globalization.CultureInfo.InvariantCulture));
        yield return ("reid.input_width", o.Width.ToString(System.Globalization.CultureInfo.InvariantCulture));
        yield return ("reid.channel_order", "RGB");
        yield return ("reid.pixel_scale", (1f / 255f).ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        yield return ("reid.mean", List(ImageNetMean));
        yield return ("reid.std", List(ImageNetStd));
    }
}
