using Reid.Video.Decoding;

namespace Reid.Video.Metrics;

/// <summary>
/// A tracked video against its MOT ground truth (`reid track --gt`): CLEAR MOT and identity figures, HOTA, and
/// the detector's person AP50 on the same frames.
/// </summary>
public sealed record TrackingScore(MotMetrics Mot, HotaMetrics Hota, DetectionEvaluator.Result Detection)
{
    /// <summary>
    /// Tracks a video and, with <paramref name="groundTruth"/>, scores it; the score is null without ground truth.
    /// </summary>
    public static (VideoTracks Tracks, TrackingScore? Score) Track(VideoPersonExtractor extractor, string videoPath, FrameRange range,
        string? camera, IReadOnlyList<MotRow>? groundTruth, IProgress<double>? progress, CancellationToken ct)
    {
        if (groundTruth is null) return (extractor.ExtractDetailed(videoPath, range, camera, progress, ct), null);
        var detections = new Dictionary<long, List<Detection>>();
        var tracks = extractor.ExtractDetailed(videoPath, range, camera, progress, ct, (frame, dets) => detections[frame.Number] = dets.ToList());
        return (tracks, Evaluate(groundTruth, detections, tracks.Tracks));
    }

    /// <summary>
    /// Scores only the frames that were processed (<paramref name="detectionsByFrame"/>' keys): ground truth of frames
    /// skipped by a frame range or step would otherwise count as misses.
    /// </summary>
    public static TrackingScore Evaluate(IReadOnlyList<MotRow> groundTruth, IReadOnlyDictionary<long, List<Detection>> detectionsByFrame,
        IReadOnlyList<PersonTrack> tracks)
    {
        var gtInRange = groundTruth.Where(r => detectionsByFrame.ContainsKey(r.Frame)).ToList();
        var hypotheses = MotFile.Rows(tracks).ToList();
        return new TrackingScore(MotEvaluator.Evaluate(gtInRange, hypotheses), HotaEvaluator.Evaluate(gtInRange, hypotheses),
            DetectionEvaluator.AveragePrecision50(detectionsByFrame, gtInRange));
    }
}
