using System.Globalization;
using Reid.Core;

namespace Reid.Inference;

/// <summary>
/// A decision threshold a model declares for itself: the cosine score at a false-accept rate, measured when the
/// model was made (the project writes it for its shipped model). A gallery uses it until an operator calibrates
/// one on their own data (`reid gallery calibrate`), which is better: scores shift with cameras and scenes.
/// Keys (ONNX metadata_props, or the model's sidecar JSON without the "reid." prefix):
/// <c>reid.threshold</c> (cosine score), <c>reid.threshold_far</c> (the FAR it was chosen at),
/// <c>reid.threshold_source</c> (where it was measured).
/// </summary>
public sealed record ModelThreshold(double Score, double? Far, string Source)
{
    public const string ScoreKey = "reid.threshold", FarKey = "reid.threshold_far", SourceKey = "reid.threshold_source";

    /// <summary>The threshold in <paramref name="metadata"/>, null when it declares none; a malformed one is an error naming <paramref name="origin"/>.</summary>
    public static ModelThreshold? From(IReadOnlyDictionary<string, string> metadata, string origin)
    {
        if (!metadata.TryGetValue(ScoreKey, out var text)) return null;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var score) || !double.IsFinite(score) || score < -1 || score > 1)
            throw new ReidException($"{origin}: {ScoreKey} must be a cosine score in [-1, 1], not '{text}'");
        double? far = null;
        if (metadata.TryGetValue(FarKey, out var farText))
        {
            if (!double.TryParse(farText, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) || !(f > 0 && f < 1))
                throw new ReidException($"{origin}: {FarKey} must be a rate in (0, 1), not '{farText}'");
            far = f;
        }
        var source = metadata.TryGetValue(SourceKey, out var s) && !string.IsNullOrWhiteSpace(s) ? s : "declared by the model";
        return new ModelThreshold(score, far, $"{source} ({origin})");
    }
}
