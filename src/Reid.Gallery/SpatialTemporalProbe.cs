using Reid.SpatialTemporal;
using StSighting = Reid.SpatialTemporal.Sighting;

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
        var evidence = Model.Evidence(new StSighting(Camera, Seconds(Time)),
            new StSighting(stored.Camera, stored.CapturedAt is { } t ? Seconds(t) : null));
        var f = Model.Fusion;
        return ((float)(f.SpatialTemporalFactor(evidence.Probability) / f.SpatialTemporalFactor(Model.UniformProbability)), evidence.Kind);
    }

    private static double Seconds(DateTimeOffset t) => t.ToUnixTimeMilliseconds() / 1000.0;
}
