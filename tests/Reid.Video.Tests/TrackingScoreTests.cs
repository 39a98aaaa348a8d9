using Reid.Video.Metrics;
using Reid.Imaging;

namespace Reid.Video.Tests;

/// <summary>`reid track --gt`'s scoring: only the frames that were processed count.</summary>
public class TrackingScoreTests
{
    private static BoundingBox Box(long frame) => new(10 + frame, 20, 30, 60);

    [Fact]
    public void Frames_skipped_by_a_step_are_not_counted_as_misses()
    {
        // One person in frames 1..6; every other frame was processed (--step 2), each detected and tracked exactly.
        var groundTruth = Enumerable.Range(1, 6).Select(f => new MotRow(f, 1, Box(f), Class: 1)).ToList();
        long[] processed = [1, 3, 5];
        var detections = processed.ToDictionary(f => f, f => new List<Detection> { new(Box(f), 0.9f) });
        var observations = processed.Select(f => new TrackObservation(f, f / 10.0, Box(f), 0.9f, 0)).ToList();
        var track = new PersonTrack(1, "cam1", observations, [], new float[4], 0);

        var score = TrackingScore.Evaluate(groundTruth, detections, [track]);
        Assert.Equal(3, score.Mot.GroundTruth);
        Assert.Equal(0, score.Mot.FalseNegatives);
        Assert.Equal(1.0, score.Mot.Mota, 9);
        Assert.Equal(1.0, score.Hota.Hota, 6);
        Assert.Equal(1.0, score.Detection.AveragePrecision, 6);

        // The same track scored against every frame would miss half of them: what the restriction is for.
        var everyFrame = Enumerable.Range(1, 6).ToDictionary(f => (long)f, f => new List<Detection>());
        foreach (var f in processed) everyFrame[f] = detections[f];
        Assert.Equal(3, TrackingScore.Evaluate(groundTruth, everyFrame, [track]).Mot.FalseNegatives);
    }
}
