using Reid.SpatialTemporal;

namespace Reid.Gallery;

/// <summary>
/// Where and when a probe was seen, with the camera network's travel-time model: identify then rescales each
/// stored sighting's appearance score by how plausible the walk between the two sightings is.
/// </summary>
public sealed record SpatialTemporalProbe(SpatialTemporalModel Model, string Camera, DateTimeOffset Time)
{
    /// <summary>
    /// The factor an appearance score is multiplied by: f(p) / f(uniform), with f the model's logistic
    /// travel-time factor and p the travel-time probability of (probe, sighting). Without evidence (no camera or
    /// time on the sighting, same camera, a camera pair the model never linked) p is the uniform probability, so
    /// the factor is exactly 1 and the score stays the appearance score; a likely walk raises it, an unlikely one
    /// lowers it. Times are Unix seconds: the model compares only differences, so one learned on any clock in
    /// seconds applies (Market-1501's per-sequence clock does not: those models need Market times).
    /// </summary>
    public (float Factor, EvidenceKind Kind) Rescale(SightingSource stored)
    {
        var evidence = Model.Evidence(new CameraTime(Camera, Seconds(Time)),
            new CameraTime(stored.Camera, stored.CapturedAt is { } t ? Seconds(t) : null));
        var f = Model.Fusion;
        return ((float)(f.SpatialTemporalFactor(evidence.Probability) / f.SpatialTemporalFactor(Model.UniformProbability)), evidence.Kind);
    }

    /// <summary>
    /// The probe to rank with when both a model and the probe's camera and time are there; otherwise null and, when
    /// only one side was given, why appearance alone is used (answers carry it: the system never pretends).
    /// </summary>
    public static SpatialTemporalProbe? TryCreate(SpatialTemporalModel? model, string? camera, DateTimeOffset? time, out string? appearanceOnly)
    {
        var hasCamera = !string.IsNullOrWhiteSpace(camera);
        appearanceOnly = null;
        if (model is null)
        {
            if (hasCamera || time is not null) appearanceOnly = "no travel-time model is loaded (reid st learn, then reid serve --st MODEL): appearance only";
            return null;
        }
        if (!hasCamera || time is null)
        {
            appearanceOnly = "the probe has no " + (hasCamera ? "time" : time is null ? "camera or time" : "camera") + ": appearance only";
            return null;
        }
        return new SpatialTemporalProbe(model, camera!, time.Value);
    }

    private static double Seconds(DateTimeOffset t) => t.ToUnixTimeMilliseconds() / 1000.0;
}
