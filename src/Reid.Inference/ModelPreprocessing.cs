using System.Globalization;
using System.Text.Json;
using Reid.Core;
using Reid.Imaging;

namespace Reid.Inference;

/// <summary>
/// Where a ReID model's preprocessing is written down. The project's exporter writes these keys into the ONNX
/// metadata_props; a third-party model may carry a sidecar JSON file with the same names minus the prefix.
/// Every key is optional: a missing one takes the default (RGB, /255, ImageNet mean/std, size from the model).
/// </summary>
public static class ModelPreprocessing
{
    public const string InputHeight = "reid.input_height";      // int, e.g. "256"
    public const string InputWidth = "reid.input_width";        // int, e.g. "128"
    public const string ChannelOrderKey = "reid.channel_order"; // "RGB" or "BGR"
    public const string PixelScale = "reid.pixel_scale";        // float applied to 0-255 pixels, e.g. "0.003921569"
    public const string Mean = "reid.mean";                     // three floats, comma-separated, per tensor plane
    public const string Std = "reid.std";                       // three floats, comma-separated, per tensor plane

    /// <summary>The metadata_props an exporter writes for <paramref name="p"/> (invariant culture, round-trippable).</summary>
    public static Dictionary<string, string> ToMetadata(Preprocessing p) => new()
    {
        [InputHeight] = p.Height.ToString(CultureInfo.InvariantCulture),
        [InputWidth] = p.Width.ToString(CultureInfo.InvariantCulture),
        [ChannelOrderKey] = p.ChannelOrder == ChannelOrder.Rgb ? "RGB" : "BGR",
        [PixelScale] = p.Scale.ToString("R", CultureInfo.InvariantCulture),
        [Mean] = Triple(p.Mean),
        [Std] = Triple(p.Std),
    };

    private static string Triple((float A, float B, float C) t) =>
        string.Join(",", new[] { t.A, t.B, t.C }.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));

    /// <summary>True when any preprocessing key is present.</summary>
    public static bool HasAny(IReadOnlyDictionary<string, string> metadata) =>
        new[] { InputHeight, InputWidth, ChannelOrderKey, PixelScale, Mean, Std }.Any(metadata.ContainsKey);

    /// <summary>Reads the keys over <paramref name="defaults"/>; <paramref name="source"/> names where they came from in errors.</summary>
    public static Preprocessing FromMetadata(IReadOnlyDictionary<string, string> m, Preprocessing defaults, string source)
    {
        var p = defaults;
        if (m.TryGetValue(InputHeight, out var h)) p = p with { Height = ParseInt(h, InputHeight, source) };
        if (m.TryGetValue(InputWidth, out var w)) p = p with { Width = ParseInt(w, InputWidth, source) };
        if (m.TryGetValue(ChannelOrderKey, out var c))
            p = p with
            {
                ChannelOrder = c.Trim().ToUpperInvariant() switch
                {
                    "RGB" => ChannelOrder.Rgb,
                    "BGR" => ChannelOrder.Bgr,
                    _ => throw new ReidException($"{source}: {ChannelOrderKey} must be RGB or BGR, not '{c}'"),
                },
            };
        if (m.TryGetValue(PixelScale, out var s)) p = p with { Scale = ParseFloats(s, PixelScale, source, 1)[0] };
        if (m.TryGetValue(Mean, out var mean)) { var v = ParseFloats(mean, Mean, source, 3); p = p with { Mean = (v[0], v[1], v[2]) }; }
        if (m.TryGetValue(Std, out var std)) { var v = ParseFloats(std, Std, source, 3); p = p with { Std = (v[0], v[1], v[2]) }; }
        try { p.Validate(); }
        catch (ReidException e) { throw new ReidException($"{source}: {e.Message}", e); }
        return p;
    }

    /// <summary>
    /// Reads a sidecar JSON file, e.g. <c>{"input_height":256,"input_width":128,"channel_order":"RGB",
    /// "pixel_scale":0.00392157,"mean":[0.485,0.456,0.406],"std":[0.229,0.224,0.225]}</c>, as metadata keys.
    /// </summary>
    public static Dictionary<string, string> ReadSidecar(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new ReidException($"{path}: expected a JSON object");
            var result = new Dictionary<string, string>();
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                var key = "reid." + prop.Name;
                result[key] = prop.Value.ValueKind switch
                {
                    JsonValueKind.Array => string.Join(",", prop.Value.EnumerateArray().Select(e => e.GetRawText())),
                    JsonValueKind.String => prop.Value.GetString()!,
                    _ => prop.Value.GetRawText(),
                };
            }
            return result;
        }
        catch (JsonException e) { throw new ReidException($"{path}: invalid JSON ({e.Message})", e); }
    }

    private static int ParseInt(string s, string key, string source) =>
        int.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0
            ? v : throw new ReidException($"{source}: {key} must be a positive integer, not '{s}'");

    private static float[] ParseFloats(string s, string key, string source, int count)
    {
        var parts = s.Trim().Trim('[', ']').Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var values = new float[parts.Length];
        for (var i = 0; i < parts.Length; i++)
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !float.IsFinite(values[i]))
                throw new ReidException($"{source}: {key} has a bad number '{parts[i]}'");
        return values.Length == count ? values : throw new ReidException($"{source}: {key} needs {count} number(s), got '{s}'");
    }
}
