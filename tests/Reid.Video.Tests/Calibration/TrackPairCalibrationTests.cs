using Reid.Core;
using Reid.Video.Calibration;

namespace Reid.Video.Tests.Calibration;

public class TrackPairCalibrationTests
{
    /// <summary>A track of person <paramref name="person"/>: its crops near the person's own direction, one every 0.2 s.</summary>
    private static CalibrationTrack Track(int id, int person, long first, long last, int crops, int seed)
    {
        var rng = new Random(seed);
        return new CalibrationTrack(id, first, last, Enumerable.Range(0, crops).Select(i =>
        {
            var v = Enumerable.Range(0, 8).Select(k => (k == person ? 1f : 0f) + (float)(rng.NextDouble() - 0.5) * 0.3f).ToArray();
            var n = MathF.Sqrt(v.Sum(x => x * x));
            return (first / 10.0 + i * 0.2, v.Select(x => x / n).ToArray());
        }).ToList());
    }

    [Fact]
    public void People_seen_together_give_impostor_comparisons_and_a_tracks_later_crops_genuine_ones()
    {
        var video = new[] { Track(1, 0, 1, 400, 40, 1), Track(2, 1, 100, 500, 40, 2), Track(3, 2, 300, 700, 40, 3) };
        var r = TrackPairCalibration.Calibrate([video], new TrackCalibrationOptions { TargetFar = 0.1 });
        Assert.Equal(3, r.Tracks);
        Assert.Equal(3, r.PeoplePairs);                      // every two of them overlap in time
        Assert.Equal(3 * 2 * 10, r.Scores.Impostor.Length);  // both ways, 40 crops in probes of 4
        Assert.Equal(3, r.TracksWithGenuine);
        Assert.True(r.Point.Far <= 0.1);
        Assert.Equal(1.0, r.Point.Tar);                      // same person: far more alike than different people
        Assert.True(r.Scores.Genuine.Min() > r.Scores.Impostor.Max());
        Assert.True(r.FarUpperBound > r.Point.Far && r.FarUpperBound < 0.25, $"bound {r.FarUpperBound}");
    }

    [Fact]
    public void People_never_seen_together_prove_nothing_and_the_calibration_says_what_it_needs()
    {
        var oneAtATime = new[] { Track(1, 0, 1, 100, 40, 1), Track(2, 1, 200, 300, 40, 2) };
        var e = Assert.Throws<ReidException>(() => TrackPairCalibration.Calibrate([oneAtATime], new TrackCalibrationOptions { TargetFar = 1e-3 }));
        Assert.Contains("0 pair(s) of people seen at the same time among 2 tracks", e.Message);
        Assert.Contains("needs at least 2,996", e.Message);
        Assert.Throws<ReidException>(() => TrackPairCalibration.Calibrate([oneAtATime], new TrackCalibrationOptions { TargetFar = 0 }));
    }

    [Fact]
    public void The_far_bound_is_the_exact_binomial_one()
    {
        Assert.Equal(1 - Math.Pow(0.05, 1.0 / 300), TrackPairCalibration.ClopperPearsonUpper(0, 300, 0.95), 6);
        Assert.Equal(1.0, TrackPairCalibration.ClopperPearsonUpper(5, 5, 0.95));
        var b = TrackPairCalibration.ClopperPearsonUpper(3, 1000, 0.95);
        Assert.InRange(b, 0.0077, 0.0078);   // tables: 7.75e-3
    }
}
