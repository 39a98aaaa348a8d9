using System.Globalization;
using Reid.Core;
using Reid.Data;
using Reid.Evaluation;
using Reid.Video;
using Reid.Video.Calibration;

namespace Reid.Gallery;

/// <summary>A threshold chosen on labelled pairs, with the verification and open-set figures behind it.</summary>
public sealed record LabelledCalibration(OperatingPoint Point, VerificationResult Verification, OpenSetPoint OpenSet);

/// <summary>
/// Sets a gallery's decision threshold for its model at a false-accept rate, from labelled query/gallery pairs or
/// from unlabelled video of the user's cameras, and stores it with a description of the evidence. The CLI
/// (<c>reid gallery calibrate</c>) and the server (<c>POST /api/video/jobs/{id}/calibrate</c>) both come here.
/// </summary>
public static class ThresholdCalibration
{
    /// <summary>From labelled images already embedded by the gallery's model; <paramref name="setName"/> names the split in the stored description.</summary>
    public static LabelledCalibration FromLabelled(GalleryService gallery, EmbeddedImages query, EmbeddedImages galleryImages,
        double targetFar, string setName, string actor)
    {
        var distances = DistanceMatrix.Compute(query.Embeddings, galleryImages.Embeddings, DistanceKind.Cosine);
        var verification = Verification.Compute(distances, query.Records, galleryImages.Records);
        var point = verification.AtFar(targetFar);
        if (!float.IsFinite(point.Threshold)) throw new ReidException("the split has too few pairs to reach that false-accept rate");
        var source = FormattableString.Invariant($"calibrated at FAR {point.Far:0.#####} on {setName} (TAR {point.Tar:0.000})");
        gallery.Store.SetThreshold(new Threshold(gallery.Model.Id, point.Threshold, point.Far, source, DateTimeOffset.UtcNow), actor);
        var open = OpenSetIdentification.Compute(distances, query.Records, galleryImages.Records).At(point.Threshold);
        return new LabelledCalibration(point, verification, open);
    }

    /// <summary>
    /// From the tracks of one or more videos (people seen together are different, a track is one person; see
    /// <see cref="TrackPairCalibration"/>); a ReidException says what the videos lacked.
    /// </summary>
    public static TrackCalibrationResult FromVideo(GalleryService gallery, IReadOnlyList<(string Name, IReadOnlyList<PersonTrack> Tracks)> videos,
        double targetFar, string actor)
    {
        var r = TrackPairCalibration.Calibrate(videos.Select(v => TrackPairCalibration.FromTracks(v.Tracks, gallery.Model.Embed)).ToList(),
            new TrackCalibrationOptions { TargetFar = targetFar });
        var names = string.Join(", ", videos.Select(v => v.Name));
        var source = FormattableString.Invariant($"calibrated at FAR {r.Point.Far:0.#####} on video {names} ({r.PeoplePairs} pairs of people seen together, TAR {r.Point.Tar:0.000})");
        gallery.Store.SetThreshold(new Threshold(gallery.Model.Id, r.Point.Threshold, r.Point.Far, source, DateTimeOffset.UtcNow), actor);
        return r;
    }
}
